import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmkd_contrast  # noqa: F401  registers the allow-list


def mmengine_like_checkpoint(path):
    """What the Runner stores besides weights: a message hub full of
    HistoryBuffers, numpy random state, numpy scalars."""
    hub = MessageHub.get_instance('safe_globals_test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/lr', np.float64(0.1))
    torch.save(
        dict(
            state_dict=dict(w=torch.ones(2)),
            message_hub=hub.state_dict(),
            meta=dict(
                seed=np.int64(3),
                np_random=np.random.get_state(),
                dtype=np.dtype('float32'))), path)


def test_mmengine_checkpoint_loads_weights_only(tmp_path):
    path = tmp_path / 'runner.pth'
    mmengine_like_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.mean() == 0.5


def test_loads_in_a_fresh_process_only_with_the_plugin(tmp_path):
    """In a new process HistoryBuffer's method table is still empty; the
    allow-list must not depend on it. Without the plugin it is refused."""
    path = tmp_path / 'runner.pth'
    mmengine_like_checkpoint(path)
    load = f'import torch; torch.load({str(path)!r}, weights_only=True)'
    ok = subprocess.run(
        [sys.executable, '-c', 'import mmkd_contrast; ' + load],
        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-2000:]
    refused = subprocess.run([sys.executable, '-c', load],
                             capture_output=True, text=True)
    assert refused.returncode != 0
    assert 'weights_only' in refused.stderr


class _Evil:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


class _SneakyGetattr:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_arbitrary_callable_is_refused(tmp_path):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=_Evil(marker)), path)
    with pytest.raises(Exception, match='(?i)weights.only|unpickl'):
        torch.load(path, weights_only=True)
    assert not os.path.exists(marker)


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save(dict(payload=_SneakyGetattr()), path)
    with pytest.raises(Exception, match='HistoryBuffer statistics'):
        torch.load(path, weights_only=True)


def test_default_load_is_still_weights_only(tmp_path):
    """The fix allow-lists types; it does not switch weights-only off."""
    path = tmp_path / 'evil.pth'
    torch.save(dict(payload=_Evil(str(tmp_path / 'x'))), path)
    with pytest.raises(Exception):
        torch.load(path)
    assert not os.path.exists(tmp_path / 'x')
