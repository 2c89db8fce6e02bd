"""Every config parses and its model builds (teacher checkpoints are not
loaded: they are not shipped)."""
import glob
import os.path as osp

import pytest
from ecosystem_helpers import ecosystem_missing
from mmengine.config import Config

from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(__file__))
CONFIGS = sorted(
    f for f in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in f)


def test_there_are_configs_for_every_family():
    families = {osp.basename(osp.dirname(f)) for f in CONFIGS}
    assert {'teachers', 'students', 'kd', 'crd', 'quickstart'} <= families


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(f, ROOT) for f in CONFIGS])
def test_config_parses_and_model_builds(path):
    package = osp.basename(osp.dirname(path))
    if package in ('mmseg', 'mmdet') and ecosystem_missing(package):
        pytest.skip(f'{osp.relpath(path, ROOT)}: '
                    f'{ecosystem_missing(package)}')
    cfg = Config.fromfile(path)
    for key in ('model', 'train_dataloader', 'optim_wrapper', 'train_cfg',
                'default_scope'):
        assert key in cfg, f'{path} has no {key}'
    model_cfg = cfg.model
    if 'teacher_ckpt' in model_cfg:
        model_cfg.teacher_ckpt = None
    if cfg.get('data_preprocessor') and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    model = build_in_scope(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def _dataloaders(cfg):
    return {k: v for k, v in cfg.items()
            if k.endswith('_dataloader') and isinstance(v, dict)}


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(f, ROOT) for f in CONFIGS])
def test_no_workers_means_no_persistent_workers(path):
    """mmpretrain's entry point defaults persistent_workers to True, which
    torch refuses with num_workers=0."""
    package = osp.basename(osp.dirname(path))
    if package in ('mmseg', 'mmdet') and ecosystem_missing(package):
        pytest.skip(f'{osp.relpath(path, ROOT)}: '
                    f'{ecosystem_missing(package)}')
    cfg = Config.fromfile(path)
    loaders = _dataloaders(cfg)
    assert loaders, f'{path} has no dataloaders'
    for name, loader in loaders.items():
        if loader.get('num_workers', 1) == 0:
            assert loader.get('persistent_workers') is False, \
                f'{name}: num_workers=0 without persistent_workers=False'


def _family(pattern):
    return sorted(
        f for f in glob.glob(osp.join(ROOT, 'configs', pattern),
                             recursive=True) if '_base_' not in f)


PCKD_CONFIGS = _family('**/pckd*.py')
CRD_CONFIGS = _family('crd/*.py') + _family('benchmarks/crd*.py')


def test_pckd_configs_released_objective_and_kd_variants():
    names = [osp.basename(f) for f in PCKD_CONFIGS]
    # The main CIFAR pairs have a "+kd" variant next to the released one.
    for pair in ('resnet32x4_resnet8x4', 'wrn-40-2_wrn-16-2'):
        assert f'pckd_{pair}_1xb64_cifar100.py' in names
        assert f'pckd+kd_{pair}_1xb64_cifar100.py' in names
    assert 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py' in names
    from mmkd_contrast.models.distillers import pckd_setup
    for path, name in zip(PCKD_CONFIGS, names):
        # What the distiller builds: the config's keys over the defaults.
        losses = Config(dict(losses=pckd_setup.with_defaults(
            Config.fromfile(path).model.get('distill_losses'),
            pckd_setup.DEFAULT_LOSSES, 'model.distill_losses',
            templates=dict(kd=pckd_setup.KD_LOSS)))).losses
        assert losses.cc.loss_weight == 0.05, name
        assert losses.fa.loss_weight == 20.0, name
        assert losses.ca.loss_weight == 1.0, name
        if name.startswith('pckd+kd_'):
            assert losses.kd.type.split('.')[-1] == 'KDLoss', name
            assert (losses.kd.loss_weight, losses.kd.tau) == (1.0, 4.0), name
        else:
            # The authors' released command: no KD term.
            assert losses.kd is None, name


def test_crd_configs_draw_other_class_negatives_with_labels_wired():
    names = [osp.basename(f) for f in CRD_CONFIGS]
    assert 'crd_resnet32x4_resnet8x4_1xb64_cifar100.py' in names
    assert 'crd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py' in names
    for path, name in zip(CRD_CONFIGS, names):
        model = Config.fromfile(path).model
        crd = model.distill_losses.crd
        assert crd.neg_sampling == 'other_class', name
        assert model.loss_inputs.crd.labels == 'data.gt_label', name
        assert crd.loss_weight == 0.8, name
        if name.startswith('crd+kd_'):
            # The CRD paper's CRD+KD: CE + KD + 0.8 * CRD.
            assert model.distill_losses.kd.loss_weight == 1.0, name
            assert model.distill_losses.kd.tau == 4.0, name
            assert model.student.head.loss.loss_weight == 1.0, name
        else:
            assert 'kd' not in model.distill_losses, name
    # Every CIFAR-100 pair with a CRD config has a CRD+KD config.
    for name in names:
        if name.startswith('crd_') and name.endswith('_cifar100.py'):
            assert 'crd+kd_' + name[len('crd_'):] in names, name


def test_crd_config_without_labels_fails_at_build():
    # the small MNIST one (picked by name: other benchmarks add CRD configs)
    cfg = Config.fromfile(
        next(f for f in CRD_CONFIGS if f.endswith('_mnist5k.py')))
    model_cfg = cfg.model
    model_cfg.teacher_ckpt = None
    del model_cfg.loss_inputs.crd['labels']
    with pytest.raises(KeyError, match=r"add labels='data\.gt_label' to "
                       r'loss_inputs\.crd'):
        build_in_scope(model_cfg)
