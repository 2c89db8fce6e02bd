"""Faults injected into real runs of the tools: a rank killed mid-epoch
(two gloo processes through ``tools/dist_train.sh``), the disk filling up
while a checkpoint is written, a checkpoint changed on disk, a work dir
moved. Each must stop promptly with a message naming the file, keep the
last complete checkpoint, and resume to the weights of an uninterrupted
run.

These run whole trainings (a minute or more each): ``--run-slow``.
"""
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from dist_helpers import _free_port
from fault_helpers import flip_a_weight_byte
from tool_helpers import QUICKSTART, ROOT, SMALL_DATA, run_tool, train

from mmkd_contrast.engine import load_checkpoint_file

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
#: Runs ``python SCRIPT ARGS`` with ``os.fsync`` failing with ENOSPC for
#: files whose name contains ``$FAIL_WRITING``: a disk that fills up while
#: a checkpoint is written (the write is buffered; fsync is where a full
#: disk is reported).
FULL_DISK = '''
import errno, os, runpy, sys
real_fsync = os.fsync
def fsync(fd):
    name = os.path.basename(os.readlink(f'/proc/self/fd/{fd}'))
    if os.environ['FAIL_WRITING'] in name:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_fsync(fd)
os.fsync = fsync
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''
#: Small batches: 13 iterations per epoch per process, so that a rank can
#: be killed in the middle of one.
DIST_OPTIONS = ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=8',
                'default_hooks.logger.interval=1', *SMALL_DATA]

pytestmark = pytest.mark.slow


def student_weights(ckpt):
    state = load_checkpoint_file(str(ckpt))['state_dict']
    return {k: v for k, v in state.items() if k.startswith('student.')}


def assert_same_weights(a, b):
    a, b = student_weights(a), student_weights(b)
    assert a.keys() == b.keys()
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst == 0, f'the resumed run differs by {worst}'


def logs_of(work_dir):
    return '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))


# ------------------------------------------------------------ a full disk
def test_full_disk_while_saving_keeps_the_previous_checkpoint(
        tmp_path, quickstart_teacher_ckpt):
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    work = tmp_path / 'work'
    script = tmp_path / 'full_disk.py'
    script.write_text(FULL_DISK)
    proc = subprocess.run(
        [sys.executable, str(script), osp.join(ROOT, 'tools', 'train.py'),
         KD, '--work-dir', str(work), '--cfg-options',
         'train_cfg.max_epochs=2', teacher, *SMALL_DATA],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1',
                 FAIL_WRITING='.epoch_2.pth.'))
    assert proc.returncode != 0
    last_line = proc.stderr.strip().splitlines()[-1]
    assert last_line.startswith('OSError: [Errno 28] No space left on '
                                'device: could not write'), last_line
    assert str(work / 'epoch_2.pth') in last_line
    # Epoch 1's checkpoint and the pointer to it are whole; no partial
    # epoch 2 and no temporary file are left.
    assert (work / 'last_checkpoint').read_text() == str(
        work / 'epoch_1.pth')
    assert load_checkpoint_file(str(work / 'epoch_1.pth'))['meta'][
        'epoch'] == 1
    assert not list(work.glob('*epoch_2*')) and not list(work.glob('.*'))

    # A damaged copy of the work dir stops --resume, naming the file.
    damaged = tmp_path / 'damaged'
    shutil.copytree(work, damaged)
    (damaged / 'last_checkpoint').write_text(str(damaged / 'epoch_1.pth'))
    flip_a_weight_byte(damaged / 'epoch_1.pth')
    proc = run_tool('train.py', KD, '--work-dir', str(damaged), '--resume',
                    '--cfg-options', 'train_cfg.max_epochs=2', teacher,
                    *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'CheckpointCorruptError' in proc.stderr
    assert str(damaged / 'epoch_1.pth') in proc.stderr
    assert not (damaged / 'epoch_2.pth').exists()

    # With space again, --resume continues from epoch 1, in a moved dir.
    moved = tmp_path / 'moved'
    shutil.move(str(work), str(moved))
    train(KD, moved, teacher, epochs=2, extra_args=['--resume'])
    text = logs_of(moved)
    assert 'moved or copied' in text and 'resumed epoch: 1' in text
    straight = tmp_path / 'straight'
    train(KD, straight, teacher, epochs=2)
    assert_same_weights(straight / 'epoch_2.pth', moved / 'epoch_2.pth')


# ---------------------------------------------------------- a killed rank
def dist_train(work, teacher, *extra, port):
    """Start ``tools/dist_train.sh`` with 2 processes in its own session;
    every process of the run inherits ``MMKD_FAULT_RUN=<port>``."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port),
               OMP_NUM_THREADS='1', MMKD_FAULT_RUN=str(port))
    return subprocess.Popen(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), KD, '2',
         '--work-dir', str(work), *extra, '--cfg-options', teacher,
         *DIST_OPTIONS],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)


def run_processes(port):
    """``pid -> environ`` of the live processes of the run started with
    ``port`` (torchrun may start its workers in sessions of their own)."""
    found = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/environ', 'rb') as f:
                env = dict(
                    item.split(b'=', 1) for item in f.read().split(b'\0')
                    if b'=' in item)
            if env.get(b'MMKD_FAULT_RUN') != str(port).encode():
                continue
            with open(f'/proc/{name}/stat') as f:
                if f.read().split(') ')[1].startswith('Z'):
                    continue  # a zombie has exited
        except (OSError, ProcessLookupError):
            continue
        found[int(name)] = env
    return found


def wait_for(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f'timed out waiting for {what}')


def test_a_killed_rank_stops_every_process_and_resume_is_exact(
        tmp_path, quickstart_teacher_ckpt):
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    proc = dist_train(straight, teacher, port=_free_port())
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]

    port = _free_port()
    proc = dist_train(killed, teacher, port=port)
    try:
        # Kill rank 1 in the middle of epoch 2 (epoch 1 is saved).
        wait_for(lambda: re.search(r'Epoch\(train\)\s+\[2\]\[\s*4/',
                                   logs_of(killed)), 600, 'epoch 2')
        workers = {
            pid: env for pid, env in run_processes(port).items()
            if env.get(b'RANK') in (b'0', b'1') and
            env.get(b'LOCAL_RANK') is not None
        }
        rank1 = [p for p, env in workers.items() if env[b'RANK'] == b'1']
        assert len(rank1) == 1, workers
        os.kill(rank1[0], signal.SIGKILL)
        start = time.monotonic()
        out, _ = proc.communicate(timeout=300)
        elapsed = time.monotonic() - start
        wait_for(lambda: not run_processes(port), 30,
                 'every process of the run to exit')
    finally:
        for pid in run_processes(port):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode != 0
    print(f'all processes gone {elapsed:.1f} s after rank 1 was killed')
    assert elapsed < 60, f'the run took {elapsed:.0f} s to stop'
    assert (killed / 'last_checkpoint').read_text() == str(
        killed / 'epoch_1.pth')
    assert not (killed / 'epoch_2.pth').exists()
    assert load_checkpoint_file(str(killed / 'epoch_1.pth'))['meta'][
        'epoch'] == 1

    proc = dist_train(killed, teacher, '--resume', port=_free_port())
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    assert 'resumed epoch: 1' in logs_of(killed)
    assert_same_weights(straight / 'epoch_2.pth', killed / 'epoch_2.pth')
