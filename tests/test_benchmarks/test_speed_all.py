"""The pure parts of benchmarks/speed_all.py: ratios, targets, table, CSV
and chart groups, on made-up timings. Nothing is timed here."""
import csv
import io
import os.path as osp
import sys

import pytest

BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'benchmarks')
sys.path.insert(0, BENCHMARKS)

import speed_all  # noqa: E402
from speed_all import Setting, Target  # noqa: E402


def settings():
    cifar = Setting('cifar', 'CIFAR', dict.fromkeys(
        ['student alone', 'KD', 'CRD', 'MSDCRD']), ('cifar', 'student alone'),
        ('cifar', 'KD'))
    pckd = Setting('pckd', 'PCKD', dict.fromkeys(['PCKD', 'KD (256)']),
                   ('cifar', 'student alone'), ('pckd', 'KD (256)'))
    crd = Setting('crd_loss', 'CRD loss', dict.fromkeys(
        ['CRD loss (this project)', 'CRD loss (torchdistill)']), None, None)
    return [cifar, pckd, crd]


MEDIANS = {
    ('cifar', 'student alone'): 0.100,
    ('cifar', 'KD'): 0.200,
    ('cifar', 'CRD'): 0.260,
    ('cifar', 'MSDCRD'): 0.210,
    ('pckd', 'PCKD'): 0.900,
    ('pckd', 'KD (256)'): 0.800,
    ('crd_loss', 'CRD loss (this project)'): 0.050,
    ('crd_loss', 'CRD loss (torchdistill)'): 0.400,
}
# Five rounds on a machine whose load comes and goes: every case of a round
# is slowed alike, so the paired ratios are exact and the medians are the
# values above.
LOAD = [1.0, 2.0, 1.0, 3.0, 1.0]
TIMES = {key: [value * f for f in LOAD] for key, value in MEDIANS.items()}


def test_rows_carry_ratios_to_the_setting_references():
    rows = speed_all.result_rows(settings(), TIMES,
                                 {('cifar', 'KD'): 123.0})
    by_case = {(r['setting'], r['case']): r for r in rows}
    msd = by_case[('CIFAR', 'MSDCRD')]
    assert msd['ms'] == pytest.approx(210)
    assert msd['x_student'] == pytest.approx(2.1)
    assert msd['x_kd'] == pytest.approx(1.05)
    assert msd['peak_mib'] is None
    assert by_case[('CIFAR', 'KD')]['peak_mib'] == 123.0
    pckd = by_case[('PCKD', 'PCKD')]
    assert pckd['x_student'] == pytest.approx(9.0)  # 64 images alone
    assert pckd['x_kd'] == pytest.approx(0.9 / 0.8)  # KD on 256 samples
    peer = by_case[('CRD loss', 'CRD loss (torchdistill)')]
    assert peer['x_student'] is None and peer['x_kd'] is None


def test_targets_only_for_present_cases():
    labels = [t.label for t in speed_all.targets_for(settings())]
    assert labels == ['CRD loss: this project / torchdistill', 'MSDCRD / KD',
                      'MSDCRD / CRD', 'PCKD / KD (256)']
    without_peer = settings()
    without_peer[2] = without_peer[2]._replace(
        cases={'CRD loss (this project)': None})
    labels = [t.label for t in speed_all.targets_for(without_peer)]
    assert 'CRD loss: this project / torchdistill' not in labels


def test_only_the_shipped_lfcc_config_gets_a_target():
    lfcc = Setting('lfcc', 'LFCC', dict.fromkeys(
        ['student alone', 'KD', 'LFCC', 'LFCC dense filter']),
        ('lfcc', 'student alone'), ('lfcc', 'KD'))
    labels = [t.label for t in speed_all.targets_for([lfcc])]
    assert labels == ['LFCC / KD']


def test_target_lines_met_missed_and_strict():
    lines = {t.label: speed_all.target_line(t, TIMES)
             for t in speed_all.targets_for(settings())}
    assert lines['MSDCRD / KD'] == (
        'MSDCRD / KD = 1.050 (rounds 1.050-1.050, spread 0%)  '
        '(target <= 1.10: met)')
    assert lines['PCKD / KD (256)'].endswith('MISSED)')
    assert lines['CRD loss: this project / torchdistill'].startswith(
        'CRD loss: this project / torchdistill = 0.125')
    equal = Target('A / B', ('x', 'a'), ('x', 'b'), 1.0, True)
    same = {('x', 'a'): [1.0], ('x', 'b'): [1.0]}
    assert speed_all.target_line(equal, same).endswith(
        '(target < 1.00: MISSED)')
    loose = equal._replace(strict=False)
    assert speed_all.target_line(loose, same).endswith('met)')


def test_paired_ratios_follow_the_rounds_not_the_medians():
    from speed_utils import paired_ratios, ratio_stats

    # B was timed while the machine was busy in rounds 1-3, A in round 4
    # only: the ratio of the medians says A is 2.5x faster, the rounds
    # (A and B back to back) say A costs 1.0-1.2x B.
    a = [1.2, 3.0, 3.0, 3.3, 1.0]
    b = [1.0, 3.0, 2.5, 3.0, 1.0]
    stats = ratio_stats(paired_ratios(a, b))
    assert stats['median'] == pytest.approx(1.1)
    assert stats['min'] == pytest.approx(1.0)
    assert stats['max'] == pytest.approx(1.2)
    assert stats['spread'] == pytest.approx(0.2 / 1.1)
    with pytest.raises(ValueError, match='same, non-zero number of rounds'):
        paired_ratios([1.0], [1.0, 2.0])


def test_a_spread_too_wide_to_judge_is_flagged():
    target = Target('A / B', ('x', 'a'), ('x', 'b'), 1.10, False)
    b = [1.0] * 5
    # Rounds on both sides of the bound, spread 0.6 / 1.0: UNCLEAR.
    noisy = {('x', 'a'): [0.8, 0.9, 1.0, 1.2, 1.4], ('x', 'b'): b}
    line = speed_all.target_line(target, noisy)
    assert line == ('A / B = 1.000 (rounds 0.800-1.400, spread 60%)  '
                    '(target <= 1.10: UNCLEAR; spread 60% > 25%: too wide '
                    'to judge, rerun on a quieter machine)')
    # As wide, but every round is below the bound: met, and flagged.
    low = {('x', 'a'): [0.5, 0.6, 0.7, 0.8, 0.9], ('x', 'b'): b}
    line = speed_all.target_line(target, low)
    assert '(target <= 1.10: met; spread 57% > 25%' in line
    # A tolerance given on the command line.
    line = speed_all.target_line(target, noisy, max_spread=0.7)
    assert line.endswith('(target <= 1.10: met)')
    assert speed_all.parse_args(['--max-spread', '0.1']).max_spread == 0.1
    with pytest.raises(SystemExit):
        speed_all.parse_args(['--max-spread', '0'])


def test_markdown_and_csv():
    rows = speed_all.result_rows(settings(), TIMES)
    lines = speed_all.markdown_table(rows).strip().split('\n')
    assert len(lines) == 2 + len(MEDIANS)
    assert lines[5] == \
        '| CIFAR | MSDCRD | 210 | 2.10 | 1.050 | 1.050-1.050 |  |'
    parsed = list(csv.DictReader(io.StringIO(speed_all.csv_text(rows))))
    assert parsed[3]['case'] == 'MSDCRD'
    assert parsed[3]['ms_per_iter_median'] == '210.0'
    assert parsed[3]['x_kd'] == '1.050'
    assert parsed[-1]['x_student'] == ''


def test_chart_groups_mark_the_references_and_the_peer():
    rows = speed_all.result_rows(settings(), TIMES)
    groups = dict(speed_all.chart_groups(settings(), rows))
    assert groups['CIFAR'] == [('student alone', 100.0, True),
                               ('KD', 200.0, True), ('CRD', 260.0, False),
                               ('MSDCRD', 210.0, False)]
    assert [c[2] for c in groups['PCKD']] == [False, True]
    assert [c[2] for c in groups['CRD loss']] == [False, True]


def test_speed_chart_writes_a_png(tmp_path):
    from plots import speed_chart
    rows = speed_all.result_rows(settings(), TIMES)
    path = str(tmp_path / 'speed.png')
    speed_chart(speed_all.chart_groups(settings(), rows), path, 'test')
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with pytest.raises(ValueError, match='no settings'):
        speed_chart([], path, 'test')


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        speed_all.parse_args(['--rounds', '0'])
    with pytest.raises(SystemExit):
        speed_all.parse_args(['--only', 'nothing'])
    assert speed_all.parse_args(['--only', 'lfcc', 'crd_loss']).only == [
        'lfcc', 'crd_loss']


def test_target_cases_are_neighbours_in_every_round():
    settings_, _ = speed_all.build_settings(['cifar'])
    assert list(settings_[0].cases) == ['student alone', 'KD', 'MSDCRD',
                                        'CRD']


def test_rounds_alternate_the_order_of_the_cases():
    from speed_utils import time_interleaved
    calls = []

    def case(name):
        return lambda: (lambda: calls.append(name))

    result = time_interleaved(dict(a=case('a'), b=case('b'), c=case('c')),
                              warmup=0, rounds=3)
    assert ''.join(calls) == 'abccbaabc'
    assert all(len(r['times']) == 3 for r in result.values())
