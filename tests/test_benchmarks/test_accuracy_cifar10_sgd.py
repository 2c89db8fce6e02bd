"""benchmarks/accuracy_cifar10_sgd.py: the protocol its configs carry, its
options, and an end-to-end run on tiny made-up JPEGs with a random resnet56
teacher (student alone and KD, one epoch), started twice to show that
finished runs are reused."""
import csv
import io
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from test_accuracy_cifar10 import make_jpegs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import accuracy_cifar10 as earlier  # noqa: E402
import accuracy_cifar10_sgd as sgd  # noqa: E402


def method(name):
    return next(m for m in sgd.METHODS if m.name == name)


def config(m):
    return Config.fromfile(osp.join(sgd.common.CONFIGS, m.config))


def test_every_row_config_carries_the_protocol():
    assert [m.name for m in sgd.METHODS] == [
        'student alone', 'KD', 'CRD', 'CRD+KD', 'MSDCRD', 'PCKD',
        'ViT student alone', 'KD (ViT student)', 'LFCC (ViT student)']
    for m in sgd.METHODS:
        cfg = config(m)
        optimizer = cfg.optim_wrapper.optimizer
        assert (optimizer.type, optimizer.momentum,
                optimizer.weight_decay) == ('SGD', 0.9, 5e-4), m.name
        assert optimizer.lr == (0.01 if m.student == 'tiny ViT' else 0.05)
        assert cfg.train_cfg.max_epochs == sgd.EPOCHS
        assert cfg.param_scheduler == [dict(
            type='CosineAnnealingLR', by_epoch=True, begin=0,
            T_max=sgd.EPOCHS, convert_to_iter_based=True)]
        assert cfg.train_dataloader.batch_size == 64
        assert cfg.train_dataloader.dataset.num_per_class == sgd.PER_CLASS
        assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
        if m.teacher:
            teacher = cfg.model.teacher.backbone
            assert (teacher.arch, teacher.shortcut) == ('resnet56',
                                                        'zero_pad')
            kd = cfg.model.distill_losses.get('kd')
            assert kd is None or kd.tau == 4.0
    crd = config(method('CRD')).model.distill_losses.crd
    assert crd.num_samples == sgd.NUM_CLASSES * sgd.PER_CLASS


def test_options_follow_a_smaller_trial_protocol():
    options = sgd.protocol_options(method('CRD'), 1, 't.pth',
                                   per_class=20, epochs=2)
    assert 'randomness.seed=1' in options
    assert 'model.teacher_ckpt=t.pth' in options
    assert 'param_scheduler.0.T_max=2' in options
    assert 'model.distill_losses.crd.num_samples=200' in options
    assert 'model.channels_last=True' in options
    assert 'model.channels_last=True' not in sgd.protocol_options(
        method(sgd.BASELINE), 0)
    with pytest.raises(ValueError, match='needs a teacher'):
        sgd.protocol_options(method('KD'), 0)
    assert 'NOT the fixed protocol' in sgd.protocol_line((0, ), epochs=2)
    assert 'NOT' not in sgd.protocol_line((0, 1, 2))


def test_end_to_end_on_tiny_jpegs_and_resume(tmp_path, capsys):
    data = tmp_path / 'cifar10-jpeg'
    make_jpegs(data, train_per_class=3, test_per_class=2)
    from mmkd_contrast.utils import build_in_scope
    teacher_cfg = Config.fromfile(
        osp.join(sgd.common.CONFIGS, sgd.TEACHER_CONFIG))
    torch.manual_seed(0)
    teacher = tmp_path / 'resnet56.pth'
    torch.save(dict(state_dict=build_in_scope(
        teacher_cfg.model).state_dict()), teacher)
    out = tmp_path / 'out'
    argv = ['--data-root', str(data), '--out-dir', str(out), '--methods',
            'KD', '--per-class', '2', '--epochs', '1', '--seeds', '0',
            '--teacher-ckpt', str(teacher)]
    assert sgd.main(argv) == 0
    text = capsys.readouterr().out
    assert '[2/2 done]' in text and 'NOT the fixed protocol' in text
    with open(out / 'teacher.json') as f:
        assert 0. <= json.load(f)['top1'] <= 100.
    with open(out / 'kd' / 'seed0' / 'result.json') as f:
        record = json.load(f)
    assert record['method'] == 'KD' and 0. <= record['top1'] <= 100.
    assert (out / 'accuracy_cifar10_sgd.png').read_bytes()[:4] == b'\x89PNG'

    assert sgd.main(argv) == 0
    text = capsys.readouterr().out
    assert text.count('(reused)') == 2 and 'start ' not in text


def test_missing_teacher_says_what_to_do(tmp_path):
    data = tmp_path / 'cifar10-jpeg'
    make_jpegs(data, train_per_class=1, test_per_class=1)
    with pytest.raises(SystemExit, match='teacher checkpoint not found'):
        sgd.main(['--data-root', str(data), '--out-dir', str(tmp_path / 'o'),
                  '--methods', 'KD', '--teacher-ckpt',
                  str(tmp_path / 'none.pth')])


def test_step_cost_times_every_row(tmp_path, capsys):
    import step_cost_cifar10_sgd as step_cost
    data = tmp_path / 'cifar10-jpeg'
    make_jpegs(data, train_per_class=7, test_per_class=1)
    from mmkd_contrast.utils import build_in_scope
    teacher_cfg = Config.fromfile(
        osp.join(sgd.common.CONFIGS, sgd.TEACHER_CONFIG))
    teacher = tmp_path / 'resnet56.pth'
    torch.save(dict(state_dict=build_in_scope(
        teacher_cfg.model).state_dict()), teacher)
    # 70 images: one full batch of 64 per row and round.
    assert step_cost.main(['--teacher-ckpt', str(teacher), '--data-root',
                           str(data), '--rounds', '1',
                           '--per-class', '7']) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith('| ') and not line.startswith('| row')]
    assert [line.split(' | ')[0][2:] for line in lines] == [
        m.name for m in sgd.METHODS]
    assert lines[0].split(' | ')[2] == '1.00'


def test_table_and_csv_gain_over_crd():
    runs = [dict(method=name, seed=0, top1=top1) for name, top1 in (
        (sgd.BASELINE, 50.0), ('KD', 55.0), ('CRD', 52.0),
        ('MSDCRD', 56.5), (sgd.VIT_BASELINE, 40.0))]
    rows = earlier.summarize(runs, sgd.METHODS)
    table, csv_text = sgd.with_crd_column(
        earlier.markdown_table(rows, sgd.METHODS),
        earlier.csv_text(rows, sgd.METHODS), rows)
    lines = table.strip().split('\n')
    assert lines[0].split(' | ')[6] == 'gain over CRD'
    assert lines[1] == '|---' * 9 + '|'
    cells = {line.split(' | ')[0]: line.split(' | ') for line in lines[2:]}
    assert cells['| MSDCRD'][6] == '+4.50'
    assert cells['| KD'][6] == '+3.00'
    assert cells['| CRD'][6] == '—'
    assert cells[f'| {sgd.BASELINE}'][6] == '—'
    csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [r['gain_over_crd'] for r in csv_rows] == ['', '3.00', '', '4.50',
                                                      '']
    assert csv_rows[3]['top1_per_seed'] == '56.50'
