"""Shared steps of the tests that distil real mmseg and mmdet models.

Those tests need the package (mmsegmentation 1.2.2, mmdet 3.3.0) and full
mmcv 2.1 (its compiled ops, ``mmcv._ext``): without them they are skipped,
with the reason, never passed.
"""
import importlib
import importlib.util
import os.path as osp
from contextlib import contextmanager

import numpy as np
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
    from mmkd_contrast.utils import build_in_scope
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


def derive_config(tmp_path, shipped, overrides):
    """Write ``<tmp_path>/<method>_tiny.py``: the shipped config ``shipped``
    with ``overrides`` (config text that sets ``model.teacher_ckpt``) and a
    work dir under ``tmp_path``; load it and save the teacher's initial
    weights where ``teacher_ckpt`` points.

    Returns:
        tuple: ``(path of the derived config, its Config)``.
    """
    from mmengine.config import Config
    method = osp.basename(shipped).split('_')[0]
    derived = tmp_path / f'{method}_tiny.py'
    derived.write_text(f'_base_ = [{shipped!r}]\n{overrides}'
                       f'work_dir = {str(tmp_path / "work")!r}\n')
    cfg = Config.fromfile(str(derived))
    save_teacher_checkpoint(cfg.model, cfg.model.teacher_ckpt)
    return str(derived), cfg


def _snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def train_checked(cfg, losses, student_loss):
    """Train ``cfg`` through the Runner and check what distilling a real
    pair must do: a ``SingleTeacherDistiller`` whose student is built in
    the config's own package, the ``losses`` (distill loss names) finite
    and non-zero, the student's ``student_loss`` finite, the teacher
    unchanged and the student trained.

    Returns:
        Runner: The runner, after training.
    """
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    distiller = runner.model
    assert type(distiller).__name__ == 'SingleTeacherDistiller'
    # Built in the package's registries, not mmpretrain's namesakes.
    assert type(distiller.student.backbone).__module__.startswith(
        cfg.default_scope + '.')
    teacher_before = _snapshot(distiller.teacher)
    student_before = _snapshot(distiller.student)

    runner.train()

    hub = runner.message_hub
    for name in losses:
        value = hub.get_scalar(f'train/distill.loss_{name}').current()
        assert np.isfinite(value) and value != 0, (name, value)
    assert np.isfinite(
        hub.get_scalar(f'train/student.{student_loss}').current())
    for k, v in distiller.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), f'teacher {k} changed'
    assert any(not torch.equal(v, student_before[k])
               for k, v in distiller.student.state_dict().items())
    return runner


def export_and_compare(runner, derived, checkpoint, model_type):
    """Export the trained student of ``derived`` from the run's
    ``checkpoint`` (a file name in its work dir), reload it with its own
    package alone, and check that it gives the trained student's outputs on
    a validation batch.

    Returns:
        The reloaded student's ``tensor``-mode outputs.
    """
    work_dir = runner.work_dir
    ckpt, cfg_path = load_export_tool().export(
        derived, osp.join(work_dir, checkpoint),
        osp.join(osp.dirname(work_dir), 'export', 'student.pth'))
    exported_cfg, student = reload_exported(cfg_path, ckpt)
    assert exported_cfg.default_scope == runner.cfg.default_scope
    assert 'custom_imports' not in exported_cfg
    assert exported_cfg.model.type == model_type

    batch = next(iter(runner.val_dataloader))
    trained = runner.model.student.eval()
    with torch.no_grad():
        data = trained.data_preprocessor(batch, False)
        expected = trained(data['inputs'], mode='tensor')
        data = student.data_preprocessor(batch, False)
        got = student(data['inputs'], mode='tensor')
    torch.testing.assert_close(got, expected)
    return got
