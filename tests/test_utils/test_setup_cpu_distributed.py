"""setup_cpu_distributed prepares any config, with or without env_cfg."""
import pytest
import torch.distributed as dist
from mmengine.config import Config

from mmkd_contrast.utils import setup_cpu_distributed


@pytest.fixture
def group_exists(monkeypatch):
    # The process group itself is not what is tested here.
    monkeypatch.setattr(dist, 'is_initialized', lambda: True)


@pytest.mark.parametrize('cfg', [
    dict(model=dict(type='X')),
    dict(model=dict(type='X'), env_cfg=dict(cudnn_benchmark=False)),
    dict(model=dict(type='X'),
         env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))),
    dict(model=dict(type='X'), env_cfg=None),
])
def test_gloo_backend_and_cpu_wrapper(group_exists, cfg):
    cfg = Config(cfg)
    setup_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    # Other settings are kept.
    if cfg.env_cfg.get('cudnn_benchmark') is not None:
        assert cfg.env_cfg.cudnn_benchmark is False
    if 'timeout' in cfg.env_cfg.dist_cfg:
        assert cfg.env_cfg.dist_cfg.timeout == 60
