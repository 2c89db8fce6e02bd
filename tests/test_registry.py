import os.path as osp
import subprocess
import sys

import mmpretrain.registry as mmpretrain_registry
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.utils import import_modules_from_strings

import mmkd_contrast.registry as registry
from mmkd_contrast.models import SingleTeacherDistiller

ROOT = osp.dirname(osp.dirname(__file__))
KD_CFG = osp.join(ROOT, 'configs', 'quickstart',
                  'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def cifar_distiller_cfg():
    """A distiller whose student uses this project's CIFAR backbone inside
    an unscoped mmpretrain ImageClassifier."""
    classifier = dict(
        type='ImageClassifier',
        backbone=dict(type='CIFARResNet', arch='resnet8'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=100, in_channels=64))
    return dict(
        type='SingleTeacherDistiller',
        student=classifier,
        teacher=classifier,
        student_taps=dict(logits='head.fc'),
        teacher_taps=dict(logits='head.fc'),
        distill_losses=dict(kd=dict(type='KDLoss')),
        loss_inputs=dict(
            kd=dict(s_logits='student.logits', t_logits='teacher.logits')))


def test_registries_are_children_of_mmpretrain():
    for name in registry.__all__:
        ours = getattr(registry, name)
        assert ours.scope == 'mmkd_contrast'
        assert ours.parent is getattr(mmpretrain_registry, name), name


def test_no_registered_name_shadows_mmpretrain():
    import mmkd_contrast  # noqa: F401  fill every registry
    clashes = {}
    for name in registry.__all__:
        ours = set(getattr(registry, name).module_dict)
        theirs = set(getattr(mmpretrain_registry, name).module_dict)
        if ours & theirs:
            clashes[name] = sorted(ours & theirs)
    assert not clashes, clashes
    # And the check is not vacuous: both sides register models.
    assert 'SingleTeacherDistiller' in registry.MODELS.module_dict
    assert 'ImageClassifier' in mmpretrain_registry.MODELS.module_dict


def test_style_default_scope_mmpretrain_with_custom_imports():
    """Style (a): an mmpretrain config that imports the plugin and scopes
    only the distiller."""
    cfg = Config(
        dict(
            default_scope='mmpretrain',
            custom_imports=dict(imports=['mmkd_contrast']),
            model=dict(cifar_distiller_cfg(), _scope_='mmkd_contrast')))
    import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = ROOT_MODELS.build(cfg.model)
    assert isinstance(model, SingleTeacherDistiller)
    assert type(model.student).__name__ == 'ImageClassifier'
    assert type(model.student.backbone).__name__ == 'CIFARResNet'


def test_style_default_scope_mmkd_contrast():
    """Style (b): this project's scope is the default one."""
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        model = ROOT_MODELS.build(cifar_distiller_cfg())
        # The Runner's other pieces resolve through the parents.
        assert registry.DATASETS.get('CIFAR100') is not None
        assert registry.METRICS.get('Accuracy') is not None
        assert registry.VISUALIZERS.get('UniversalVisualizer') is not None
    assert isinstance(model, SingleTeacherDistiller)
    out = model(torch.randn(2, 3, 32, 32), mode='tensor')
    assert out.shape == (2, 100)


def test_unscoped_classifier_resolves_inside_the_distiller_without_scope():
    model = registry.MODELS.build(cifar_distiller_cfg())
    assert type(model.teacher.backbone).__name__ == 'CIFARResNet'


@pytest.mark.parametrize('scope_line', [
    "default_scope='mmkd_contrast'",
    "default_scope='mmpretrain'; "
    "custom_imports=dict(imports=['mmkd_contrast'])"
])
def test_config_styles_through_the_runner_in_a_fresh_process(
        tmp_path, scope_line):
    """The Runner builds the distiller from a config file with nothing
    imported by hand."""
    cfg = tmp_path / 'cfg.py'
    scoped = "_scope_='mmkd_contrast', " if 'mmpretrain' in scope_line \
        else ''
    cfg.write_text(
        f"_base_ = ['{KD_CFG}']\n{scope_line}\n"
        f"model = dict({scoped}teacher_ckpt=None)\n")
    code = (
        'from mmengine.config import Config\n'
        'from mmengine.runner import Runner\n'
        f'cfg = Config.fromfile({str(cfg)!r})\n'
        f'cfg.work_dir = {str(tmp_path / "work")!r}\n'
        'runner = Runner.from_cfg(cfg)\n'
        'print(type(runner.model).__name__)\n')
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'SingleTeacherDistiller'
