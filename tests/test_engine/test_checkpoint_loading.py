"""Weights-only loading on every route, whatever the environment says, and
files that are not checkpoints named as such."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import (CheckpointLoader, _load_checkpoint,
                                        load_checkpoint)

import mmkd_contrast  # noqa: F401  registers the loaders
from mmkd_contrast.engine import (CheckpointError, load_checkpoint_file,
                                  register_weights_only_loaders,
                                  weights_only_forced)
from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KD = osp.join(ROOT, 'configs', 'quickstart',
              'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


class _WritesMarker:
    """Pickles as a call that creates a directory when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


@pytest.fixture
def no_weights_only_env(monkeypatch):
    """The common advice for old checkpoints: switch torch's default off."""
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)


@pytest.fixture
def evil(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(1)),
                    payload=_WritesMarker(marker)), path)
    return str(path), marker


def test_the_environment_variable_really_runs_pickles(tmp_path, evil,
                                                      no_weights_only_env):
    """Not vacuous: without an explicit weights_only, torch runs it."""
    path, marker = evil
    torch.load(path)
    assert osp.isdir(marker)


def test_load_checkpoint_file_refuses_code(evil, no_weights_only_env):
    path, marker = evil
    with pytest.raises(CheckpointError, match='weights-only') as info:
        load_checkpoint_file(path)
    assert path in str(info.value)
    assert 'mkdir' in str(info.value)  # torch's reason is kept
    assert not osp.exists(marker)


def test_mmengine_routes_refuse_code(evil, no_weights_only_env):
    """``_load_checkpoint`` is what Runner.load_checkpoint calls for
    ``load_from``, ``--resume`` and tools/test.py; ``load_checkpoint`` is
    what ``mmpretrain.get_model(pretrained=...)`` calls."""
    path, marker = evil
    with pytest.raises(CheckpointError):
        _load_checkpoint(path, map_location='cpu')
    model = torch.nn.Linear(1, 1)
    with pytest.raises(CheckpointError):
        load_checkpoint(model, path, map_location='cpu')
    assert not osp.exists(marker)


def test_teacher_ckpt_refuses_code(evil, no_weights_only_env):
    path, marker = evil
    cfg = Config.fromfile(KD)
    cfg.model.teacher_ckpt = path
    with pytest.raises(CheckpointError, match='teacher_ckpt: .*evil.pth'):
        build_in_scope(cfg.model)
    assert not osp.exists(marker)


def test_other_schemes_are_forced_weights_only(evil, no_weights_only_env):
    """A scheme loader that asks for weights_only=False (as torch.hub's URL
    loader does) is wrapped when registered before the call."""
    path, marker = evil
    prefix = 'mmkdtest://'

    def load_from_mmkdtest(filename, map_location=None):
        return torch.load(filename[len(prefix):], weights_only=False)

    CheckpointLoader.register_scheme(prefix, load_from_mmkdtest)
    try:
        register_weights_only_loaders()
        with pytest.raises(Exception, match='(?i)weights.only'):
            _load_checkpoint(prefix + path)
        assert not osp.exists(marker)
    finally:
        CheckpointLoader._schemes.pop(prefix)
    assert os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] == '1'


def test_forcing_restores_the_environment(monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    monkeypatch.delenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', raising=False)
    with weights_only_forced():
        assert os.environ['TORCH_FORCE_WEIGHTS_ONLY_LOAD'] == '1'
        assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    assert os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] == '1'
    assert 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ


def test_a_runner_checkpoint_still_loads(tmp_path, no_weights_only_env):
    """The allow-listed mmengine types load with the variable set."""
    import numpy as np
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('checkpoint_loading_test')
    hub.update_scalar('train/loss', 0.5)
    path = tmp_path / 'runner.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(2)),
                    message_hub=hub.state_dict(),
                    meta=dict(seed=np.int64(3))), path)
    ckpt = _load_checkpoint(str(path))
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


@pytest.mark.parametrize('content', ['empty', 'random', 'truncated', 'text'])
def test_not_a_checkpoint_names_the_file(tmp_path, content):
    path = tmp_path / f'{content}.pth'
    if content == 'empty':
        path.write_bytes(b'')
    elif content == 'random':
        path.write_bytes(bytes(range(256)) * 8)
    elif content == 'truncated':
        torch.save(dict(w=torch.ones(100)), path)
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    else:
        path.write_text('work_dirs/run/epoch_3.pth\n')
    with pytest.raises(CheckpointError) as info:
        _load_checkpoint(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'not a' in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_checkpoint_file(str(tmp_path / 'nothing.pth'))
