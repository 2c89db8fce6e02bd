"""Export the student of a distillation checkpoint as a plain mmpretrain
checkpoint, with a matching mmpretrain config.

    python tools/export_student.py CONFIG CHECKPOINT OUT.pth

writes ``OUT.pth`` (the student's ``state_dict`` and plain metadata; it
loads with ``torch.load(..., weights_only=True)`` and needs no plugin) and
``OUT.py``: the student model config with the data preprocessor used during
distillation, in the student's own scope (``default_scope='mmpretrain'``,
or ``'mmseg'`` / ``'mmdet'`` for a student whose type names that package),
and the distillation config's test dataloader, evaluator and ``test_cfg``
(this project's types in them written ``mmkd_contrast.X``), so that
mmpretrain's own test tool and inferencer run it as it is:

    python tools/test.py OUT.py OUT.pth
    ImageClassificationInferencer('OUT.py', pretrained='OUT.pth')

If the student uses only mmpretrain modules, plain mmpretrain rebuilds and
loads it (``mmpretrain.get_model('OUT.py', pretrained='OUT.pth')``); a
config that names this project's types (CIFAR backbones, the embedded
dataset) carries ``custom_imports`` of ``mmkd_contrast``, and the
checkpoint still loads without it.
"""
import argparse
import copy
import io
import os
import os.path as osp
import warnings

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner.checkpoint import _load_checkpoint

import mmkd_contrast  # noqa: F401  safe globals for the source checkpoint
from mmkd_contrast.engine import (atomic_write, load_checkpoint_file,
                                  state_dict_of)
from mmkd_contrast.engine.state_dict_match import match_state_dict

PREFIX = 'student.'
# Training-only preprocessors that behave like ClsDataPreprocessor on a
# single view.
MULTI_VIEW_PREPROCESSORS = ('MultiViewClsDataPreprocessor', )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export the distilled student as a plain mmpretrain '
        'checkpoint and config.')
    parser.add_argument('config', help='the distillation config')
    parser.add_argument('checkpoint', help='the distillation checkpoint')
    parser.add_argument(
        'out',
        help='output checkpoint path (.pth); its config goes next to it, '
        'with the suffix .py')
    parser.add_argument(
        '--force',
        action='store_true',
        help='overwrite OUT and its .py config if they exist (never the '
        'input config or checkpoint)')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='export even if the checkpoint\'s student weights do not fit '
        'the config\'s student (missing, unexpected or mis-shaped keys; '
        'listed as a warning)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')
    return parser.parse_args()


def _plain(obj):
    """Keep only values torch's weights-only loader accepts without
    allow-listing (no numpy, no custom classes)."""
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    return str(obj)


def student_state_dict(state_dict):
    """The ``student.*`` entries of a distiller state dict, unprefixed."""
    student = {
        k[len(PREFIX):]: v
        for k, v in state_dict.items() if k.startswith(PREFIX)
    }
    if not student:
        raise KeyError(
            f'no "{PREFIX}*" keys in the checkpoint: it is not a '
            'SingleTeacherDistiller checkpoint (first keys: '
            f'{list(state_dict)[:5]})')
    return student


# What the exported config carries besides the model, for testing and
# inference: mmengine's test loop needs the first three, mmpretrain's
# inferencer reads test_dataloader.dataset.pipeline, and its test tool's
# --show / --show-dir need the visualization hook and a visualizer.
TEST_KEYS = ('test_dataloader', 'test_evaluator', 'test_cfg', 'visualizer')
TEST_HOOKS = ('timer', 'logger', 'visualization')


def test_settings(cfg):
    """The test settings of distillation config ``cfg`` for its student:
    dataloader (the validation one when there is no test one), evaluator,
    ``test_cfg``, the logging and visualization hooks and the visualizer,
    with this project's types scoped ``mmkd_contrast.X``."""
    from mmkd_contrast.evaluation import without_teacher_metrics
    from mmkd_contrast.type_names import scope_plugin_types
    out = {}
    fallbacks = dict(test_dataloader='val_dataloader',
                     test_evaluator='val_evaluator')
    for key in TEST_KEYS:
        value = cfg.get(key, None)
        if value is None and key in fallbacks:
            value = cfg.get(fallbacks[key], None)
        if value is not None:
            out[key] = copy.deepcopy(value)
    if 'test_evaluator' in out:
        # The exported student has no teacher to agree with.
        out['test_evaluator'] = without_teacher_metrics(out['test_evaluator'])
    out.setdefault('test_cfg', dict())
    hooks = cfg.get('default_hooks', None) or {}
    kept = {k: copy.deepcopy(v) for k, v in hooks.items() if k in TEST_HOOKS}
    if kept:
        out['default_hooks'] = kept
    out = Config(out).to_dict()
    scope_plugin_types(out)
    return out


def student_config(cfg):
    """A plain config for the student of distiller config ``cfg``, in the
    student's own scope (:func:`student_scope`): the student model with the
    data preprocessor used during distillation, and the test settings of
    :func:`test_settings`."""
    model_cfg = cfg.model
    if 'student' not in model_cfg:
        raise KeyError(f'{cfg.filename}: model has no "student"; is it a '
                       'distillation config?')
    student = copy.deepcopy(model_cfg.student)
    preprocessor = model_cfg.get('data_preprocessor') or \
        cfg.get('data_preprocessor')
    if preprocessor is not None and not student.get('data_preprocessor'):
        student['data_preprocessor'] = copy.deepcopy(preprocessor)
    data_pre = student.get('data_preprocessor')
    if data_pre is not None and str(data_pre.get('type', '')).split(
            '.')[-1] in MULTI_VIEW_PREPROCESSORS:
        # Training fed several views per image; the exported student sees
        # one, which the multi-view preprocessor's parent handles alike.
        data_pre['type'] = 'ClsDataPreprocessor'
    scope = student_scope(student)
    student.pop('_scope_', None)
    out = dict(model=student, default_scope=scope, **test_settings(cfg))
    if _needs_plugin(student):
        out['custom_imports'] = dict(
            imports=['mmkd_contrast'], allow_failed_imports=False)
    return Config(out)


def student_scope(student):
    """The scope the exported student config keeps: its ``_scope_``, else
    the package its type names (``mmseg.EncoderDecoder``: ``mmseg``), else
    ``mmpretrain``."""
    from mmkd_contrast.utils import package_scope
    scope = student.get('_scope_') or package_scope(student, 'mmpretrain')
    return 'mmpretrain' if scope == 'mmkd_contrast' else scope


def _ours():
    """Every name registered by this plugin (in any of its registries)."""
    from mmkd_contrast import registry
    return set().union(*(getattr(registry, name).module_dict
                         for name in registry.__all__))


def _needs_plugin(cfg, ours=None):
    """Whether some ``type`` in ``cfg`` needs this plugin to build: it is
    scoped ``mmkd_contrast.`` or names one of the plugin's classes."""
    ours = _ours() if ours is None else ours
    if isinstance(cfg, (dict, ConfigDict)):
        kind = cfg.get('type')
        if isinstance(kind, str) and (kind.startswith('mmkd_contrast.') or
                                      kind in ours):
            return True
        return any(_needs_plugin(v, ours) for v in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return any(_needs_plugin(v, ours) for v in cfg)
    return False


def _same_file(a, b):
    if osp.exists(a) and osp.exists(b):
        return osp.samefile(a, b)
    return osp.realpath(a) == osp.realpath(b)


def check_outputs(config, checkpoint, out, force=False):
    """Refuse outputs that would destroy a file, before anything is read.

    Args:
        config (str): The input config.
        checkpoint (str): The input checkpoint.
        out (str): The output checkpoint; the config goes to ``out`` with
            the suffix ``.py``.
        force (bool): Allow overwriting existing outputs (never inputs).

    Returns:
        str: The path of the output config.

    Raises:
        FileExistsError: An output is an input, the two outputs are one
            file (``out`` ends in ``.py``), or an output exists and
            ``force`` is False.
    """
    cfg_path = osp.splitext(out)[0] + '.py'
    if _same_file(out, cfg_path):
        raise FileExistsError(
            f'OUT {out} ends in .py: the student config written next to it '
            'would overwrite the exported weights; give OUT a .pth suffix')
    for path, what in ((out, 'OUT'), (cfg_path, "OUT's config")):
        for source, role in ((checkpoint, 'input checkpoint'),
                             (config, 'input config')):
            if _same_file(path, source):
                raise FileExistsError(
                    f'{what} {path} is the {role}: exporting would '
                    'overwrite it; choose another OUT')
        if osp.exists(path) and not force:
            raise FileExistsError(
                f'{what} {path} already exists; pass --force to '
                'overwrite it, or choose another OUT')
    return cfg_path


def check_student(cfg, state_dict, checkpoint, allow_partial=False):
    """Check that ``state_dict`` fits the student of ``cfg``.

    Raises:
        ValueError: Keys are missing, unexpected or mis-shaped (listed),
            unless ``allow_partial``, which only warns.
    """
    from mmkd_contrast.utils import build_in_scope
    student = build_in_scope(copy.deepcopy(cfg.model.student))
    mismatch = match_state_dict(student.state_dict(), state_dict,
                                strip_prefix=None)
    if not mismatch:
        return
    message = (f'the student weights of {checkpoint} do not fit the '
               f'student of {cfg.filename}:\n{mismatch.describe()}')
    if not allow_partial:
        raise ValueError(message + '\n(pass --allow-partial-load to '
                         'export them anyway)')
    warnings.warn(message + '\nExporting anyway (--allow-partial-load).')


def _load(checkpoint):
    if '://' in checkpoint:
        return _load_checkpoint(checkpoint, map_location='cpu')
    return load_checkpoint_file(checkpoint, map_location='cpu')


def export(config, checkpoint, out, cfg_options=None, force=False,
           allow_partial_load=False):
    """Write ``out`` and ``out`` with a ``.py`` suffix; return both paths.

    Nothing is written unless every check passes: the outputs are not the
    inputs and do not exist (or ``force``), the checkpoint loads
    weights-only, and its student weights fit the config's student (or
    ``allow_partial_load``). Both files are written atomically.
    """
    cfg_path = check_outputs(config, checkpoint, out, force)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = _load(checkpoint)
    state_dict = student_state_dict(state_dict_of(ckpt, checkpoint))
    if 'student' not in cfg.model:
        raise KeyError(f'{config}: model has no "student"; is it a '
                       'distillation config?')
    check_student(cfg, state_dict, checkpoint, allow_partial_load)
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    plain_meta = dict(
        exported_from=osp.abspath(checkpoint),
        distill_config=osp.abspath(config),
        mmkd_contrast_version=mmkd_contrast.__version__,
        epoch=_plain(meta.get('epoch')),
        iter=_plain(meta.get('iter')))
    if 'dataset_meta' in meta:
        plain_meta['dataset_meta'] = _plain(meta['dataset_meta'])
    cfg_text = student_config(cfg).pretty_text
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    buffer = io.BytesIO()
    torch.save(
        dict(
            state_dict={k: v.detach().cpu().clone()
                        for k, v in state_dict.items()},
            meta=plain_meta), buffer)
    atomic_write(buffer.getvalue(), out)
    atomic_write(cfg_text, cfg_path)
    return out, cfg_path


def main() -> None:
    args = parse_args()
    ckpt, cfg_path = export(args.config, args.checkpoint, args.out,
                            args.cfg_options, force=args.force,
                            allow_partial_load=args.allow_partial_load)
    print(f'Exported the student to {ckpt} (config: {cfg_path})')


if __name__ == '__main__':
    main()
