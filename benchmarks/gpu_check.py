"""Images per second and peak memory of every method on one device, in
four modes: eager, ``--amp``, ``--compile`` and both (``gpu_check.sh``).

Each case is one method's CIFAR-10 benchmark config (``speed_modes.py``'s
builds: mmengine's ``train_step``, synthetic 32x32 images, random teacher)
timed alone, one after the other: a GPU lent to one job is not shared, so
no interleaving is needed. A compiled case's first steps (compilation)
are timed apart from its steps. ``--amp`` is ``tools/train.py``'s: fp16
``AmpOptimWrapper`` on a GPU, bf16 ``AutocastOptimWrapper`` on a CPU.

    bash benchmarks/gpu_check.sh            # on a GPU, within 8 minutes
    python benchmarks/gpu_check.py --smoke  # a tiny CPU run of the code

Each row is printed as soon as it is measured, then the whole table.
"""
import argparse
import statistics
import sys
import os.path as osp
import time
import warnings

import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)

from speed_modes import METHODS, plugin_case  # noqa: E402
from speed_utils import machine_line  # noqa: E402

#: Mode to (amp, compiled).
MODES = {
    'eager': (False, False),
    'amp': (True, False),
    'compile': (False, True),
    'amp + compile': (True, True),
}
DEFAULT_METHODS = ['KD', 'CRD', 'MSDCRD', 'PCKD', 'LFCC, ViT student']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        help=f'default: {DEFAULT_METHODS} (--smoke: KD)')
    parser.add_argument('--modes', nargs='+', choices=list(MODES),
                        default=list(MODES))
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--steps', type=int, default=30,
                        help='timed steps per case')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps per case (compilation)')
    parser.add_argument('--backend', default='inductor')
    parser.add_argument(
        '--smoke', action='store_true',
        help='KD only, batch 4, 2 steps, the eager compile backend: checks '
        'the code on a CPU in seconds; its figures mean nothing')
    args = parser.parse_args(argv)
    if args.methods is None:
        args.methods = ['KD'] if args.smoke else DEFAULT_METHODS
    if args.smoke:
        args.batch_size = 4
        args.steps, args.warmup, args.backend = 2, 1, 'eager'
    return args


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def measure(method, mode, args):
    """One row: images/s, ms per step, first-steps seconds, peak MiB."""
    amp, compiled = MODES[mode]
    # Cases run one after the other: a fresh dynamo cache for each (the
    # compiled cases share train_step's code and its recompile limit).
    torch._dynamo.reset()
    build = plugin_case(method, 'eager', args.batch_size, args.backend,
                        amp=amp, compiled=compiled)
    step = build()
    _sync()
    start = time.perf_counter()
    for _ in range(args.warmup):
        step()
    _sync()
    warmup_s = time.perf_counter() - start
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        _sync()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    peak = (torch.cuda.max_memory_allocated() / 2**20
            if torch.cuda.is_available() else None)
    return dict(method=method, mode=mode,
                images_per_s=args.batch_size / median, ms=1000 * median,
                warmup_s=warmup_s, peak_mib=peak)


def row_text(row):
    peak = '' if row['peak_mib'] is None else f'{row["peak_mib"]:.0f}'
    return (f'| {row["method"]} | {row["mode"]} | '
            f'{row["images_per_s"]:.0f} | {row["ms"]:.1f} | '
            f'{row["warmup_s"]:.1f} | {peak} |')


HEADER = ('| method | mode | images/s | ms / step (median) | '
          'warm-up s (compilation) | peak memory (MiB) |\n'
          '|---|---|---|---|---|---|')


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings('ignore', category=UserWarning)
    print(f'{machine_line()}; batch {args.batch_size}, {args.steps} timed '
          f'steps after {args.warmup} warm-up steps per case', flush=True)
    rows = []
    for method in args.methods:
        for mode in args.modes:
            rows.append(measure(method, mode, args))
            print(row_text(rows[-1]), flush=True)
    print()
    print(HEADER)
    for row in rows:
        print(row_text(row))
    return rows


if __name__ == '__main__':
    main()
