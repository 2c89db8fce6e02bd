import logging
import os.path as osp

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper

from mmkd_contrast.registry import HOOKS
from ..checkpoint_loading import state_dict_of
from ..config_diff import diff_configs, literal_config
from ..state_dict_match import match_state_dict

__all__ = ['CheckpointMatchHook', 'CheckpointMismatchError']


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose weights do not fit the model being run."""


@HOOKS.register_module()
class CheckpointMatchHook(Hook):
    """Refuse a checkpoint that does not fit the model, before it is loaded.

    mmengine loads ``load_from`` and the checkpoint of ``tools/test.py``
    non-strictly: missing, unexpected and mis-shaped keys are only logged,
    so a checkpoint of another model gives a randomly initialised model that
    trains or evaluates without complaint; ``--resume`` with another
    config's checkpoint fails later, at an obscure size mismatch. This hook
    compares the checkpoint's weights with the model's in
    ``after_load_checkpoint`` (which mmengine calls before it copies the
    weights) and raises an error that lists the keys that do not fit and,
    from the config stored in the checkpoint, the model settings that
    differ.

    Args:
        strict (bool): Raise on any mismatch. If False (an intended partial
            load, e.g. a pretrained backbone), the mismatch is logged as a
            warning and mmengine loads what fits. Resuming is always strict.
            Defaults to True.
    """

    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    def after_load_checkpoint(self, runner, checkpoint):
        filename = runner.cfg.get('load_from') or '<checkpoint>'
        model = runner.model
        # mmengine loads into the module of a wrapper or a test-time
        # augmentation model (tools/test.py --tta); compare with that.
        if is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module
        mismatch = match_state_dict(model.state_dict(),
                                    state_dict_of(checkpoint, filename))
        if not mismatch:
            return
        resuming = bool(runner.cfg.get('resume', False))
        where = osp.basename(runner.cfg.filename) if runner.cfg.filename \
            else 'this config'
        message = (f'checkpoint {filename} does not fit the model of '
                   f'{where}:\n{mismatch.describe()}')
        message += self._config_origin(checkpoint, runner)
        unexpected = set(mismatch.unexpected)
        if mismatch.missing and all(f'student.{k}' in unexpected
                                    for k in mismatch.missing):
            message += ('\nIt holds a distiller whose student is this model'
                        ': export the student with tools/export_student.py,'
                        ' or use the distillation config.')
        if resuming or self.strict:
            hint = ('resuming needs the checkpoint of a run of this config'
                    if resuming else
                    'pass --allow-partial-load (or set '
                    'CheckpointMatchHook(strict=False)) to load only the '
                    'keys that fit on purpose')
            raise CheckpointMismatchError(f'{message}\n({hint})')
        print_log(message + '\nLoading the keys that fit '
                  '(CheckpointMatchHook(strict=False)).',
                  logger='current', level=logging.WARNING)

    @staticmethod
    def _config_origin(checkpoint, runner):
        """Which run wrote the checkpoint, and how its model differs."""
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) \
            else None
        if not isinstance(meta, dict) or not isinstance(meta.get('cfg'),
                                                        str):
            return ''
        text = (f"\nThe checkpoint was written by run "
                f"{meta.get('experiment_name', '<unknown>')}")
        old = literal_config(meta['cfg']).get('model')
        new = runner.cfg.get('model')
        if not isinstance(old, dict) or new is None:
            return text + '.'
        new = new.to_dict() if hasattr(new, 'to_dict') else dict(new)
        diff = diff_configs(old, new, 'model')
        if not diff:
            return text + ', with the same model config.'
        more = f'\n  ... and {len(diff) - 10} more' if len(diff) > 10 else ''
        return (text + '; its model config differs from this one at '
                '(checkpoint -> this config):\n  ' + '\n  '.join(diff[:10]) +
                more)
