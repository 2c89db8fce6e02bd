"""The command-line tools on hostile input: malicious or foreign
checkpoints, a broken last_checkpoint, batches the losses cannot use."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from test_export_student_safety import distiller_checkpoint
from tool_helpers import QUICKSTART, SMALL_DATA, run_tool, train

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
MSDCRD = osp.join(QUICKSTART,
                  'msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
NO_WEIGHTS_ONLY = dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')


class _WritesMarker:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


def logs_of(work_dir):
    return '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))


@pytest.mark.parametrize('route', ['test', 'load_from', 'resume'])
def test_malicious_checkpoint_is_refused_on_every_route(
        tmp_path, route, quickstart_teacher_ckpt):
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, meta={}, payload=_WritesMarker(
        str(marker))), evil)
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    work = str(tmp_path / 'work')
    if route == 'test':
        args = ['test.py', KD, str(evil), '--work-dir', work,
                '--cfg-options', teacher]
    elif route == 'load_from':
        args = ['train.py', KD, '--work-dir', work, '--cfg-options',
                teacher, f'load_from={evil}']
    else:
        args = ['train.py', KD, '--work-dir', work, '--resume', str(evil),
                '--cfg-options', teacher]
    proc = run_tool(*args, env=NO_WEIGHTS_ONLY, check=False)
    assert proc.returncode != 0
    assert 'CheckpointError' in proc.stderr
    assert 'refused by weights-only loading' in proc.stderr
    assert str(evil) in proc.stderr
    assert not marker.exists()


def test_checkpoint_of_another_width_is_an_error(tmp_path,
                                                 quickstart_teacher_ckpt):
    wide = distiller_checkpoint(tmp_path / 'wide.pth', student_width=8)
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    proc = run_tool('test.py', KD, wide, '--work-dir', str(tmp_path / 't'),
                    '--cfg-options', teacher, *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'CheckpointMismatchError' in proc.stderr
    assert 'student.backbone.conv1.weight: checkpoint (8, 1, 3, 3) vs ' \
        'model (4, 1, 3, 3)' in proc.stderr
    assert 'accuracy/top1' not in proc.stdout
    work = tmp_path / 'train'
    proc = run_tool('train.py', KD, '--work-dir', str(work),
                    '--cfg-options', teacher, f'load_from={wide}',
                    *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'mis-shaped keys' in proc.stderr
    assert not list(work.glob('*.pth'))


def test_resume_from_another_configs_checkpoint_says_what_differs(
        tmp_path, quickstart_teacher_ckpt):
    wide = distiller_checkpoint(tmp_path / 'wide.pth', student_width=8)
    cfg = Config.fromfile(KD)
    cfg.model.student.backbone.base_channels = 8
    ckpt = torch.load(wide, weights_only=True)
    ckpt['meta'] = dict(cfg=cfg.pretty_text, epoch=1, iter=4,
                        experiment_name='kd_wide_20260101_000000')
    torch.save(ckpt, wide)
    proc = run_tool('train.py', KD, '--work-dir', str(tmp_path / 'w'),
                    '--resume', wide, '--cfg-options',
                    f'model.teacher_ckpt={quickstart_teacher_ckpt}',
                    *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'kd_wide_20260101_000000' in proc.stderr
    assert 'model.student.backbone.base_channels: 8 -> 4' in proc.stderr
    assert 'resuming needs the checkpoint of a run of this config' in \
        proc.stderr


def test_resume_with_nothing_then_with_an_empty_last_checkpoint(
        tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'work'
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    train(KD, work, teacher, extra_args=['--resume'])
    assert 'training starts from scratch' in logs_of(work)
    assert (work / 'epoch_1.pth').is_file()
    # What a kill while mmengine wrote it leaves.
    (work / 'last_checkpoint').write_text('')
    train(KD, work, teacher, extra_args=['--resume'])
    text = logs_of(work)
    assert 'last_checkpoint is empty; resuming from the newest complete ' \
        f'checkpoint of the work dir, {work / "epoch_1.pth"}' in text
    assert 'resumed epoch: 1' in text


def test_a_last_batch_of_one_is_refused_before_training(
        tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'work'
    # 200 training images in batches of 199: the last batch holds one.
    proc = run_tool(
        'train.py', MSDCRD, '--work-dir', str(work), '--cfg-options',
        f'model.teacher_ckpt={quickstart_teacher_ckpt}',
        'train_dataloader.batch_size=199', *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'last batch holds 1' in proc.stderr
    assert 'train_dataloader.drop_last=True' in proc.stderr
    assert 'Epoch(train)' not in proc.stdout
    assert not list(work.glob('*.pth'))
