"""Stop training at the first non-finite loss, before it is saved."""
import math

import torch
from mmengine.hooks import Hook

from mmkd_contrast.registry import HOOKS
from ..resume import read_last_checkpoint


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training, with an error that names the term and the iteration,
    at the first non-finite value the step logged, before a checkpoint of
    the poisoned weights can be written.

    The training step reads no value on the host (that would stall a GPU).
    mmengine's ``RuntimeInfoHook`` (priority ``VERY_HIGH``) already brings
    every logged value of the step's outputs to the host, into the
    ``MessageHub``, once per iteration; this hook (``HIGH``) reads them
    there, so it costs no extra synchronisation, and raises before
    ``CheckpointHook`` (``VERY_LOW``) runs. The last checkpoint written is
    therefore one from before the bad step, and ``last_checkpoint``, which
    ``--resume`` follows, still points to it.

    Weights can also turn non-finite while the loss is still finite (a NaN
    gradient): before every checkpoint is written, its ``state_dict`` is
    checked too (one pass over the weights per checkpoint, outside the
    training step), and a non-finite tensor stops training instead of
    being saved.

    Args:
        check_checkpoint (bool): Check the weights before every checkpoint
            is written. Defaults to True.
    """

    priority = 'HIGH'

    def __init__(self, check_checkpoint: bool = True) -> None:
        self.check_checkpoint = check_checkpoint

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if not outputs:
            return
        bad = []
        for key in outputs:
            scalars = runner.message_hub.log_scalars.get(f'train/{key}')
            if scalars is None:
                continue
            value = scalars.current()
            if not math.isfinite(value):
                bad.append((key, value))
        if not bad:
            return
        # The total ('loss') is non-finite whenever a term is: name a term.
        terms = [item for item in bad if item[0] != 'loss'] or bad
        key, value = terms[0]
        others = ', '.join(f'{k} = {v}' for k, v in bad if k != key)
        raise FloatingPointError(
            f'Training stopped: non-finite loss {key} = {value} at '
            f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch '
            f'{batch_idx + 1} of the epoch)'
            f'{f"; also {others}" if others else ""}. '
            f'{_last_checkpoint_note(runner)} To find a non-finite input, '
            'rerun with MMKD_CONTRAST_DEBUG_CHECKS=1 (tools/train.py '
            '--debug-checks); a lower learning rate or --amp off may also '
            'help.')

    def before_save_checkpoint(self, runner, checkpoint):
        if not self.check_checkpoint:
            return
        for name, value in checkpoint.get('state_dict', {}).items():
            if isinstance(value, torch.Tensor) and (
                    value.is_floating_point() or value.is_complex()) and \
                    not bool(torch.isfinite(value).all()):
                raise FloatingPointError(
                    f'Training stopped: {name} holds non-finite values '
                    f'after iteration {runner.iter} (epoch '
                    f'{runner.epoch + 1}); the checkpoint was not written. '
                    f'{_last_checkpoint_note(runner)}')


def _last_checkpoint_note(runner):
    """Where the last checkpoint written is, in words."""
    last = read_last_checkpoint(runner.work_dir)
    if not last:
        return 'No checkpoint of this run was written.'
    return (f'No checkpoint of these weights was written; the last one is '
            f'{last}, which --resume picks.')
