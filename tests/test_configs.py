"""Every config parses and its model builds (teacher checkpoints are not
loaded: they are not shipped)."""
import glob
import os.path as osp

import pytest
from ecosystem_helpers import ecosystem_missing
from mmengine.config import Config

from mmkd_contrast.models.distillers.single_teacher_distiller import \
    build_in_scope

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
