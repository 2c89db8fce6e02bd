"""benchmarks/speed_modes.py and gpu_check.py: the cases run, the table
and target lines read made-up timings right, and the GPU check's code runs
on a CPU in its smoke mode."""
import math
import os.path as osp
import sys

import torch

BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'benchmarks')
sys.path.insert(0, BENCHMARKS)

import gpu_check  # noqa: E402
import speed_modes  # noqa: E402


def test_bare_loop_steps_and_plugin_case_runs():
    bare = speed_modes.bare_kd_case(True, 4)()
    bare()  # a full SGD step in channels_last
    bare = speed_modes.bare_kd_case(False, 4, compiled=True,
                                    backend='eager')()
    bare()
    step = speed_modes.plugin_case('KD', 'channels_last', 4, 'eager')()
    step()


def test_pckd_batch_has_rotated_views():
    data = speed_modes.synthetic_data(3, views=4)
    assert data['inputs'][0].shape == (4, 3, 32, 32)
    assert torch.equal(data['inputs'][0][1],
                       torch.rot90(data['inputs'][0][0], 1, (1, 2)))
    assert [s.sample_idx for s in data['data_samples']] == [0, 1, 2]


def test_rows_and_targets_from_made_up_timings():
    times = {
        ('KD', 'eager'): [0.10, 0.20],
        ('KD', 'channels_last'): [0.05, 0.10],
        ('KD', 'compiled'): [0.08, 0.16],
        ('KD', 'both'): [0.04, 0.08],
        ('bare KD loop', 'eager'): [0.095, 0.19],
        ('bare KD loop', 'channels_last'): [0.04, 0.08],
        ('bare KD loop', 'both'): [0.04, 0.07],
        ('CRD', 'eager'): [0.12, 0.24],
        ('CRD', 'both'): [0.05, 0.09],
        ('KD beside CRD', 'both'): [0.05, 0.06],
    }
    firsts = {('KD', 'compiled'): [20.0, 0.2, 0.1]}
    rows = speed_modes.result_rows(times, firsts, {('KD', 'eager'): 300.})
    by_mode = {(r['method'], r['mode']): r for r in rows}
    assert math.isclose(by_mode[('KD', 'both')]['x_eager'], 0.4)
    assert math.isclose(by_mode[('KD', 'compiled')]['compile_s'],
                        20.0 - 0.12)
    assert by_mode[('KD', 'eager')]['compile_s'] is None
    assert '| KD | eager | 150.0 |' in speed_modes.markdown(rows)
    lines = speed_modes.target_lines(times)
    assert lines[0] == ('CRD: best mode both = 2.53x eager '
                        '(target >= 1.5: met)')
    assert lines[1] == 'KD: best mode both = 2.50x eager (target >= 1.5: met)'
    # The plugin against the bare loop in the same mode, paired by round.
    assert any(line.startswith('KD both / bare loop both = 1.071')
               and line.endswith('MISSED)') for line in lines)
    assert any(line.startswith('KD channels_last / bare loop '
                               'channels_last = 1.250') for line in lines)
    assert not any('bare loop compiled' in line for line in lines)
    assert not any(line.startswith('KD beside') for line in lines)
    # CRD against the KD reference of its own process, paired by round:
    # 0.05 / 0.05 and 0.09 / 0.06.
    assert lines[-1] == ('CRD / KD in both = 1.25 (rounds 1.00-1.50) '
                         '(target <= 1.05: MISSED)')


def test_gpu_check_smoke_runs_on_the_cpu(capsys):
    rows = gpu_check.main(['--smoke', '--modes', 'eager', 'compile'])
    modes = [(r['method'], r['mode']) for r in rows]
    assert modes == [('KD', 'eager'), ('KD', 'compile')]
    assert all(r['images_per_s'] > 0 for r in rows)
    out = capsys.readouterr().out
    assert '| KD | compile |' in out and 'images/s' in out


def test_without_option_drops_the_option_and_its_values():
    argv = ['--methods', 'KD', 'KD, ViT student', '--rounds', '2',
            '--out-dir', 'x', '--no-memory']
    assert speed_modes._without_option(argv, '--methods') == [
        '--rounds', '2', '--out-dir', 'x', '--no-memory']
    assert speed_modes._without_option(argv, '--out-dir') == [
        '--methods', 'KD', 'KD, ViT student', '--rounds', '2',
        '--no-memory']


def test_each_method_is_timed_in_its_own_process(tmp_path):
    import json

    speed_modes.main([
        '--methods', 'KD', 'CRD', '--modes', 'eager', 'compiled',
        '--backend', 'eager', '--rounds', '2', '--warmup', '1',
        '--batch-size', '4', '--no-memory', '--out-dir', str(tmp_path)
    ])
    children = [
        json.loads((tmp_path / f'method_{i}' / 'speed_modes.json')
                   .read_text()) for i in (0, 1)
    ]
    # One method per child process (KD's also times the bare loop).
    assert set(children[0]['times']) == {
        'KD/eager', 'KD/compiled', 'bare KD loop/eager',
        'bare KD loop/compiled'}
    assert set(children[1]['times']) == {
        'CRD/eager', 'CRD/compiled', 'KD beside CRD/eager',
        'KD beside CRD/compiled'}
    merged = json.loads((tmp_path / 'speed_modes.json').read_text())
    assert sorted(merged['times']) == sorted(
        list(children[0]['times']) + list(children[1]['times']))
    assert all(len(t) == 2 for t in merged['times'].values())
    modes = {(r['method'], r['mode']) for r in merged['rows']}
    assert ('CRD', 'compiled') in modes and ('KD', 'eager') in modes
