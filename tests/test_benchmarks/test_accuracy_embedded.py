"""The pure parts of benchmarks/accuracy_embedded.py: protocol selection,
run options, result reading, summary and its Markdown/CSV forms, the chart.
Nothing is trained here."""
import csv
import io
import json
import os.path as osp
import sys

import pytest

BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'benchmarks')
sys.path.insert(0, BENCHMARKS)

import accuracy_embedded as acc  # noqa: E402


def method(name):
    return next(m for m in acc.METHODS if m.name == name)


def test_quick_runs_one_seed_and_full_runs_three():
    assert acc.parse_args(['--quick']).seeds == (0, )
    assert acc.parse_args([]).seeds == (0, 1, 2)
    assert acc.parse_args(['--seeds', '4', '5']).seeds == (4, 5)
    assert acc.parse_args(['--quick', '--seeds', '7']).seeds == (7, )


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        acc.parse_args(['--methods', 'KD', 'NotAMethod'])
    with pytest.raises(SystemExit):
        acc.parse_args(['--jobs', '0'])


def test_method_selection_keeps_the_student_alone_and_table_order():
    names = [m.name for m in acc.select_methods(['PCKD', 'KD'])]
    assert names == ['student alone', 'KD', 'PCKD']
    assert [m.name for m in acc.select_methods()] == [
        'student alone', 'KD', 'CRD', 'MSDCRD', 'PCKD', 'KD (ViT teacher)',
        'LFCC']


def test_every_method_but_the_student_has_a_teacher_and_lfcc_another_family():
    teachers = {m.name: m.teacher for m in acc.METHODS}
    assert teachers.pop('student alone') is None
    assert teachers.pop('LFCC') == 'vit'
    assert teachers.pop('KD (ViT teacher)') == 'vit'
    assert set(teachers.values()) == {'cnn'}


def test_protocol_options_set_subset_epochs_seed_and_teacher():
    options = acc.protocol_options(method('KD'), 2, 'teacher.pth',
                                   subset_per_class=30, epochs=7)
    assert 'train_dataloader.dataset.train_subset_per_class=30' in options
    assert 'train_cfg.max_epochs=7' in options
    assert 'train_cfg.val_interval=7' in options
    assert 'param_scheduler.T_max=7' in options
    assert 'randomness.seed=2' in options
    assert 'model.teacher_ckpt=teacher.pth' in options
    student = acc.protocol_options(method('student alone'), 0)
    assert not any(o.startswith('model.teacher_ckpt') for o in student)


def test_a_method_with_a_teacher_needs_its_checkpoint():
    with pytest.raises(ValueError, match='KD needs a teacher'):
        acc.protocol_options(method('KD'), 0)


def test_crd_banks_follow_the_subset_with_the_paper_negative_ratio():
    options = acc.protocol_options(method('CRD'), 0, 't.pth',
                                   subset_per_class=50)
    assert 'model.distill_losses.crd.num_samples=500' in options
    # 500 * 16384 / 50000 = 163.84
    assert 'model.distill_losses.crd.num_negatives=164' in options


def write_scalars(work_dir, stamp, records):
    path = work_dir / stamp / 'vis_data'
    path.mkdir(parents=True)
    with open(path / 'scalars.json', 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def test_last_top1_reads_the_last_validation_of_the_newest_run(tmp_path):
    write_scalars(tmp_path, '20260101_000000', [{'accuracy/top1': 11.0}])
    write_scalars(tmp_path, '20260102_000000', [
        {'loss': 1.0}, {'accuracy/top1': 80.0}, {'loss': 0.5},
        {'accuracy/top1': 85.5}, {'loss': 0.4}])
    assert acc.last_top1(str(tmp_path)) == 85.5


def test_last_top1_without_validation_raises(tmp_path):
    with pytest.raises(RuntimeError, match='no scalars.json'):
        acc.last_top1(str(tmp_path))
    write_scalars(tmp_path, '20260101_000000', [{'loss': 1.0}])
    with pytest.raises(RuntimeError, match='no accuracy/top1'):
        acc.last_top1(str(tmp_path))


RESULTS = [
    dict(method='student alone', seed=1, top1=90.0),
    dict(method='student alone', seed=0, top1=92.0),
    dict(method='KD', seed=0, top1=93.0),
    dict(method='KD', seed=1, top1=94.0),
    dict(method='PCKD', seed=0, top1=95.5),
]


def test_summary_mean_std_and_gain():
    rows = acc.summarize(RESULTS, ['student alone', 'KD', 'CRD', 'PCKD'])
    assert [r['method'] for r in rows] == ['student alone', 'KD', 'PCKD']
    student, kd, pckd = rows
    assert student['top1'] == [92.0, 90.0]  # seed order
    assert student['mean'] == pytest.approx(91.0)
    assert student['std'] == pytest.approx(2 ** 0.5)  # sample std
    assert kd['mean'] == pytest.approx(93.5)
    assert kd['gain'] == pytest.approx(2.5)
    assert pckd['n'] == 1 and pckd['std'] is None
    assert pckd['gain'] == pytest.approx(4.5)


def test_markdown_table():
    rows = acc.summarize(RESULTS, ['student alone', 'KD', 'PCKD'])
    table = acc.markdown_table(rows, {'KD': 'CNN', 'PCKD': 'CNN'})
    lines = table.strip().split('\n')
    assert len(lines) == 2 + 3
    assert lines[2] == '| student alone | — | 91.00 ± 1.41 | — | 2 | ' \
        '92.00, 90.00 |'
    assert lines[3] == '| KD | CNN | 93.50 ± 0.71 | +2.50 | 2 | ' \
        '93.00, 94.00 |'
    assert lines[4] == '| PCKD | CNN | 95.50 | +4.50 | 1 | 95.50 |'


def test_csv_round_trip():
    rows = acc.summarize(RESULTS, ['student alone', 'KD', 'PCKD'])
    parsed = list(csv.DictReader(io.StringIO(acc.csv_text(rows))))
    assert [r['method'] for r in parsed] == ['student alone', 'KD', 'PCKD']
    assert parsed[0]['gain_over_student'] == ''
    assert parsed[1]['mean_top1'] == '93.50'
    assert parsed[1]['gain_over_student'] == '2.50'
    assert parsed[2]['std_top1'] == ''
    assert parsed[1]['top1_per_seed'] == '93.00;94.00'


def test_accuracy_chart_writes_a_png(tmp_path):
    from plots import accuracy_chart
    path = str(tmp_path / 'acc.png')
    accuracy_chart(['student alone', 'KD'], [91.0, 93.5], [1.4, None], path,
                   'test', baseline='student alone')
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(ValueError, match='must match'):
        accuracy_chart(['a'], [1.0, 2.0], [None], path, 'test')


def test_teacher_stamp_names_the_checkpoint_and_its_time(tmp_path):
    assert acc.teacher_stamp(None) is None
    ckpt = tmp_path / 'epoch_4.pth'
    ckpt.write_bytes(b'x')
    stamp = acc.teacher_stamp(str(ckpt))
    assert stamp.startswith(f'{osp.realpath(ckpt)}@')
    assert stamp.split('@')[1].isdigit()
    # The same file spelled relative to another directory: the same stamp.
    relative = osp.relpath(ckpt)
    assert acc.teacher_stamp(relative) == stamp


def test_agreement_table_lists_the_rows_that_logged_it():
    runs = [dict(method='KD', seed=0, top1=93.0, agreement=90.0, kl=0.5),
            dict(method='KD', seed=1, top1=94.0, agreement=94.0, kl=0.3),
            dict(method='student alone', seed=0, top1=92.0)]
    table = acc.agreement_table(runs, ['student alone', 'KD'])
    lines = table.strip().split('\n')
    assert len(lines) == 3
    assert lines[2] == '| KD | 92.00 | 0.4000 | 2 |'
    assert acc.agreement_table(runs[2:], ['student alone']) == ''


def test_last_agreement_reads_the_last_validation(tmp_path):
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    (run / 'scalars.json').write_text(
        '{"lr": 0.1, "loss": 1.0, "step": 1}\n'
        '{"accuracy/top1": 50.0, "teacher_agreement/top1": 60.0, '
        '"teacher_agreement/kl": 0.7, "step": 1}\n'
        '{"accuracy/top1": 55.0, "teacher_agreement/top1": 65.0, '
        '"teacher_agreement/kl": 0.6, "step": 2}\n')
    assert acc.last_agreement(str(tmp_path)) == dict(agreement=65.0, kl=0.6)
    assert acc.last_agreement(str(tmp_path / 'none')) == {}
