import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import torch
from tool_helpers import QUICKSTART, ROOT, SMALL_DATA, last_scalars, \
    run_tool, train

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def student_weights(ckpt):
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    return {k: v for k, v in state.items() if k.startswith('student.')}


def test_help_lists_the_usual_flags():
    out = run_tool('train.py', '--help').stdout
    for flag in ('--work-dir', '--resume', '--amp', '--cfg-options',
                 '--launcher', '--local_rank', '--local-rank'):
        assert flag in out, flag
    out = run_tool('test.py', '--help').stdout
    for flag in ('--work-dir', '--cfg-options', '--launcher',
                 '--metrics-out'):
        assert flag in out, flag


def test_kd_quickstart_one_epoch_test_and_export(tmp_path,
                                                 quickstart_teacher_ckpt):
    work = tmp_path / 'kd'
    train(KD, work, f'model.teacher_ckpt={quickstart_teacher_ckpt}',
          extra_args=['--local-rank', '0'])
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    records = last_scalars(work)
    kd = [r['distill.loss_kd'] for r in records if 'distill.loss_kd' in r]
    assert kd and all(torch.isfinite(torch.tensor(kd)))
    assert any('accuracy/top1' in r for r in records)

    # tools/test.py on the distiller checkpoint.
    metrics = tmp_path / 'metrics.json'
    run_tool('test.py', KD, str(ckpt), '--work-dir', str(tmp_path / 'test'),
             '--metrics-out', str(metrics), '--cfg-options',
             f'model.teacher_ckpt={quickstart_teacher_ckpt}', *SMALL_DATA)
    top1 = json.loads(metrics.read_text())['accuracy/top1']
    assert 0.0 <= top1 <= 100.0

    # Export: plain mmpretrain, without this plugin, gives the same
    # predictions as the distilled student.
    out = tmp_path / 'export' / 'student.pth'
    run_tool('export_student.py', KD, str(ckpt), str(out))
    assert out.is_file() and out.with_suffix('.py').is_file()
    torch.manual_seed(0)
    images = torch.rand(6, 1, 28, 28) * 255
    torch.save(images, tmp_path / 'images.pth')
    code = (
        'import sys, torch, mmpretrain\n'
        f'model = mmpretrain.get_model({str(out.with_suffix(".py"))!r}, '
        f'pretrained={str(out)!r})\n'
        "assert 'mmkd_contrast' not in sys.modules, 'plugin was imported'\n"
        'model.eval()\n'
        f'images = torch.load({str(tmp_path / "images.pth")!r})\n'
        "batch = model.data_preprocessor(dict(inputs=list(images)), False)\n"
        "logits = model(batch['inputs'], mode='tensor')\n"
        f'torch.save(logits, {str(tmp_path / "plain.pth")!r})\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path),
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    plain = torch.load(tmp_path / 'plain.pth')

    from mmengine.config import Config

    from mmkd_contrast.utils import build_in_scope
    cfg = Config.fromfile(KD)
    cfg.model.teacher_ckpt = None
    cfg.model.data_preprocessor = cfg.data_preprocessor
    distiller = build_in_scope(cfg.model)
    distiller.load_state_dict(torch.load(ckpt)['state_dict'])
    distiller.eval()
    batch = distiller.data_preprocessor(dict(inputs=list(images)), False)
    expected = distiller(batch['inputs'], mode='tensor')
    assert torch.allclose(plain, expected, atol=1e-5)


def test_resume_is_exact(tmp_path, quickstart_teacher_ckpt):
    """2 epochs straight == the same run interrupted after epoch 1 and
    continued with ``--resume``.

    The interruption is simulated by a work dir holding only epoch 1's
    checkpoint of a 2-epoch run (what a killed run leaves). Training 1 epoch
    with ``max_epochs=1`` and resuming with 2 would not be the same run:
    mmengine fixes each scheduler's end at the max_epochs of the run that
    built it, so the learning-rate schedule would differ.
    """
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    train(KD, straight, teacher, epochs=2)
    split.mkdir()
    shutil.copy(straight / 'epoch_1.pth', split / 'epoch_1.pth')
    (split / 'last_checkpoint').write_text(str(split / 'epoch_1.pth'))
    proc = train(KD, split, teacher, epochs=2, extra_args=['--resume'])
    logs = list(split.glob('*/*.log'))
    assert logs and 'resumed epoch: 1' in logs[0].read_text(), \
        proc.stdout[-2000:]
    a = student_weights(straight / 'epoch_2.pth')
    b = student_weights(split / 'epoch_2.pth')
    assert a.keys() == b.keys()
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst <= 1e-6, f'resumed run differs by {worst}'
    # Not vacuous: epoch 2 changed the weights.
    first = student_weights(straight / 'epoch_1.pth')
    assert any(not torch.equal(first[k], b[k]) for k in first)


def test_resume_without_the_random_state_hook_differs(
        tmp_path, quickstart_teacher_ckpt):
    """The hook is what makes resume exact: without it the augmentation
    (random crops drawn from numpy's global generator in the main process)
    of the resumed epoch differs."""
    teacher = f'model.teacher_ckpt={quickstart_teacher_ckpt}'
    straight, split = tmp_path / 'straight', tmp_path / 'split'
    no_hook = 'custom_hooks=[]'
    train(KD, straight, teacher, no_hook, epochs=2)
    split.mkdir()
    shutil.copy(straight / 'epoch_1.pth', split / 'epoch_1.pth')
    (split / 'last_checkpoint').write_text(str(split / 'epoch_1.pth'))
    train(KD, split, teacher, no_hook, epochs=2, extra_args=['--resume'])
    a = student_weights(straight / 'epoch_2.pth')
    b = student_weights(split / 'epoch_2.pth')
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst > 1e-6


def test_missing_teacher_checkpoint_fails_before_training(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    keep = work / 'earlier_result.txt'
    keep.write_text('keep me')
    proc = run_tool('train.py', KD, '--work-dir', str(work), '--cfg-options',
                    'model.teacher_ckpt=no/such/teacher.pth', check=False)
    assert proc.returncode != 0
    assert 'FileNotFoundError' in proc.stderr
    assert 'no/such/teacher.pth' in proc.stderr
    assert keep.read_text() == 'keep me'
    assert not list(work.glob('*.pth'))


def test_dist_train_two_cpu_processes(tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'dist'
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517',
               OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), KD, '2',
         '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=1',
         f'model.teacher_ckpt={quickstart_teacher_ckpt}', *SMALL_DATA],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (work / 'epoch_1.pth').is_file()
    logs = list(work.glob('*/*.log'))
    assert logs and 'Distributed launcher: pytorch' in logs[0].read_text()
    text = logs[0].read_text()
    assert "'world_size': 2" in text or 'world_size: 2' in text or \
        'GPU number: 2' in text or 'Distributed training: True' in text
