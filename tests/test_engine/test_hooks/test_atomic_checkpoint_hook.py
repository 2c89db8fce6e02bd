"""A kill at any moment of a checkpoint save leaves the previous state
loadable."""
import os
import stat

import pytest
import torch
from mmengine.fileio import join_path
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner.checkpoint import save_checkpoint

from mmkd_contrast.engine import atomic_write, find_resume_checkpoint
from mmkd_contrast.engine import atomic_local_backend
from mmkd_contrast.engine.hooks import AtomicCheckpointHook


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


class FakeRunner:
    """What CheckpointHook uses of the Runner; saves the way
    Runner.save_checkpoint does (bytes handed to the file backend)."""

    def __init__(self, work_dir, name):
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_instance(name)
        self.message_hub = MessageHub.get_instance(name)
        self.step = 0
        self.epoch = 0
        self.max_epochs = 10
        self.iter = 0

    def save_checkpoint(self, out_dir, filename, file_client_args=None,
                        meta=None, backend_args=None, **kwargs):
        path = join_path(out_dir, filename, backend_args=backend_args)
        save_checkpoint(dict(state_dict=dict(w=torch.full((64, ),
                                                          self.step))),
                        path, backend_args=backend_args)


def end_epoch(hook, runner, step):
    """The hook's public call at the end of epoch ``step``."""
    runner.step = step
    runner.epoch = step - 1
    hook.after_train_epoch(runner)


def run_two_saves(hook, tmp_path, name, kill):
    runner = FakeRunner(tmp_path, name)
    hook.before_train(runner)
    end_epoch(hook, runner, 1)
    with kill, pytest.raises(Killed):
        end_epoch(hook, runner, 2)
    return runner


def test_kill_while_saving_keeps_the_previous_checkpoint(tmp_path,
                                                         monkeypatch):
    class Kill:

        def __enter__(self):
            monkeypatch.setattr(atomic_local_backend.os, 'fsync',
                                self.fsync)

        def __exit__(self, *exc):
            monkeypatch.undo()

        @staticmethod
        def fsync(fd):
            raise Killed()

    hook = AtomicCheckpointHook(interval=1, max_keep_ckpts=1)
    run_two_saves(hook, tmp_path, 'atomic_kill', Kill())
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth',
                                            'last_checkpoint']
    path, _ = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'epoch_1.pth')
    state = torch.load(path, weights_only=True)['state_dict']
    assert torch.equal(state['w'], torch.full((64, ), 1))


def test_plain_checkpoint_hook_loses_it(tmp_path):
    """Why the hook exists: mmengine deletes the outdated checkpoint before
    it writes the new one, in place."""

    class Kill:

        def __enter__(self):
            self.saved = FakeRunner.save_checkpoint

            def half_written(runner, out_dir, filename, *args, **kwargs):
                with open(os.path.join(out_dir, filename), 'wb') as f:
                    f.write(b'PK\x03\x04 half a checkpoint')
                raise Killed()
            FakeRunner.save_checkpoint = half_written

        def __exit__(self, *exc):
            FakeRunner.save_checkpoint = self.saved

    hook = CheckpointHook(interval=1, max_keep_ckpts=1)
    run_two_saves(hook, tmp_path, 'plain_kill', Kill())
    assert not (tmp_path / 'epoch_1.pth').exists()
    assert (tmp_path / 'last_checkpoint').read_text().endswith(
        'epoch_1.pth')


def test_saves_rotate_like_checkpoint_hook(tmp_path):
    runner = FakeRunner(tmp_path, 'atomic_rotate')
    hook = AtomicCheckpointHook(interval=1, max_keep_ckpts=2)
    hook.before_train(runner)
    for step in (1, 2, 3):
        end_epoch(hook, runner, step)
    assert sorted(os.listdir(tmp_path)) == [
        'epoch_2.pth', 'epoch_3.pth', 'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == str(
        tmp_path / 'epoch_3.pth')
    assert runner.message_hub.get_info('keep_ckpt_ids') == [2, 3]


def test_kill_while_naming_the_new_checkpoint_keeps_both(tmp_path,
                                                         monkeypatch):
    """mmengine writes ``last_checkpoint`` in place; a kill there leaves it
    empty. The outdated checkpoint is not deleted yet, and resuming takes
    the new, complete one."""
    from mmengine.hooks import checkpoint_hook

    class Kill:

        def __enter__(self):
            def open_(path, *args, **kwargs):
                if str(path).endswith('last_checkpoint'):
                    with open(path, 'w'):
                        pass
                    raise Killed()
                return open(path, *args, **kwargs)
            monkeypatch.setattr(checkpoint_hook, 'open', open_,
                                raising=False)

        def __exit__(self, *exc):
            monkeypatch.undo()

    hook = AtomicCheckpointHook(interval=1, max_keep_ckpts=1)
    run_two_saves(hook, tmp_path, 'atomic_kill_pointer', Kill())
    assert sorted(os.listdir(tmp_path)) == [
        'epoch_1.pth', 'epoch_2.pth', 'last_checkpoint']
    assert (tmp_path / 'last_checkpoint').read_text() == ''
    path, _ = find_resume_checkpoint(str(tmp_path))
    assert path == str(tmp_path / 'epoch_2.pth')


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / 'last_checkpoint'
    atomic_write('old', str(target))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    plain = tmp_path / 'plain'
    plain.write_text('x')
    assert mode == stat.S_IMODE(os.stat(plain).st_mode)

    def replace(src, dst):
        raise Killed()
    monkeypatch.setattr(atomic_local_backend.os, 'replace', replace)
    with pytest.raises(Killed):
        atomic_write('new', str(target))
    monkeypatch.undo()
    assert target.read_text() == 'old'
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint', 'plain']
    atomic_write(b'new', str(target))
    assert target.read_text() == 'new'


def test_a_full_disk_names_the_file_and_keeps_the_old_one(
        tmp_path, monkeypatch):
    import errno
    target = tmp_path / 'epoch_1.pth'
    atomic_write(b'old checkpoint', str(target))

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(atomic_local_backend.os, 'fsync', fsync)
    with pytest.raises(OSError) as info:
        atomic_write(b'new checkpoint', str(target))
    assert info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value)
    assert 'No space left on device' in str(info.value)
    assert target.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left
