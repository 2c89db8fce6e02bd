"""Every config parses and its model builds (teacher checkpoints are not
loaded: they are not shipped)."""
import glob
import os.path as osp

import pytest
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
