"""Shared steps of the tests that distil real mmseg and mmdet models.

Those tests need the package (mmsegmentation 1.2.2, mmdet 3.3.0) and full
mmcv 2.1 (its compiled ops, ``mmcv._ext``): without them they are skipped,
with the reason, never passed.
"""
import importlib
import importlib.util
import os.path as osp
from contextlib import contextmanager

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGES = {'mmseg': 'mmsegmentation 1.2.2', 'mmdet': 'mmdet 3.3.0'}
HOW = ('see "Distilling segmentors and detectors" in the README: '
       'pip install full mmcv 2.1 (or make test '
       'MMCV_WHEEL_DIR=<folder with its wheel>), mmsegmentation==1.2.2, '
       'mmdet==3.3.0 and their extra needs')


def ecosystem_missing(package):
    """Why ``package``'s models cannot be used here, or None."""
    if importlib.util.find_spec(package) is None:
        return f'{PACKAGES[package]} is not installed'
    try:
        import mmcv.ops  # noqa: F401
    except Exception as err:  # mmcv-lite: no mmcv._ext
        return (f'{PACKAGES[package]} needs full mmcv 2.1 with compiled '
                f'ops; import mmcv.ops failed: {err}')
    try:
        importlib.import_module(f'{package}.models')
    except Exception as err:
        return f'import {package}.models failed: {err!r}'
    return None


def skip_module_without(package):
    """Skip the calling test module, with the reason, when ``package``'s
    models cannot be used."""
    reason = ecosystem_missing(package)
    if reason:
        pytest.skip(f'real {package} models: {reason}; {HOW}',
                    allow_module_level=True)


@contextmanager
def kept_global_state():
    """Undo what a Runner of another package leaves behind for later tests:
    its default scope (``mmseg``, ``mmdet``) as the current one, and its
    visualizer as the instance named ``visualizer``."""
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer
    saved = {cls: cls._instance_dict.copy()
             for cls in (DefaultScope, Visualizer)}
    try:
        yield
    finally:
        for cls, instances in saved.items():
            cls._instance_dict = instances


def save_teacher_checkpoint(model_cfg, path):
    """Build the teacher of distiller config ``model_cfg`` (its initial
    weights) and save it the way mmengine saves checkpoints."""
    from mmkd_contrast.models.utils import build_in_scope
    torch.manual_seed(0)
    teacher = build_in_scope(model_cfg.teacher)
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict(epoch=0)),
               str(path))
    return str(path)


def load_export_tool():
    """``tools/export_student.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        'export_student', osp.join(ROOT, 'tools', 'export_student.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reload_exported(cfg_path, ckpt_path):
    """Build the exported student config in its own scope and load the
    exported weights strictly, weights-only."""
    from mmengine.config import Config
    from mmengine.registry import MODELS, DefaultScope
    cfg = Config.fromfile(cfg_path)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    state = torch.load(ckpt_path, map_location='cpu', weights_only=True)
    model.load_state_dict(state['state_dict'], strict=True)
    return cfg, model.eval()
