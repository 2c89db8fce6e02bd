"""Timing and peak-memory helpers shared by the iteration benchmarks.

A *case* is a zero-argument function that builds everything it needs and
returns a ``step()`` callable doing one full training iteration (forward,
backward, optimizer step). Cases are timed interleaved in one process
(A, B, C, A, B, C, ...) so that drift of the machine hits every case alike,
and each case's peak memory is measured in a forked child process so that
one case's allocations cannot hide another's.
"""
import argparse
import gc
import multiprocessing as mp
import os
import statistics
import time
import warnings

import torch


def _rss_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not found in /proc/self/status')


def _peak_child(build, iters, queue):
    # A forked child of a process whose OpenMP pool has run hangs at its
    # first parallel region; one thread keeps the child out of the pool.
    torch.set_num_threads(1)
    try:
        before = _rss_kib('VmRSS')
        step = build()
        for _ in range(iters):
            step()
        if torch.cuda.is_available():
            peak = torch.cuda.max_memory_allocated() / 2**20
            queue.put(('cuda', peak))
        else:
            queue.put(('cpu', (_rss_kib('VmHWM') - before) / 1024))
    except BaseException as err:  # report, do not hang the parent
        queue.put(('error', repr(err)))


def peak_memory_mib(build, iters=3):
    """Peak memory of building a case and running ``iters`` steps, in MiB.

    On a CPU this is the growth of the peak resident set of a forked child
    over its resident set at the fork (the child runs one thread: forking
    after OpenMP has run would otherwise hang); on a GPU, the peak allocated
    memory.

    Returns:
        tuple: ``(kind, MiB)`` with kind ``'cpu'`` or ``'cuda'``.
    """
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        step = build()
        for _ in range(iters):
            step()
        torch.cuda.synchronize()
        return 'cuda', torch.cuda.max_memory_allocated() / 2**20
    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_child, args=(build, iters, queue))
    proc.start()
    kind, value = queue.get()
    proc.join()
    if kind == 'error':
        raise RuntimeError(f'peak memory measurement failed: {value}')
    return kind, value


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_interleaved(cases, warmup=3, rounds=20):
    """Median seconds per step of each case, timed interleaved.

    Each round runs one step of every case, in the given order on even
    rounds and in reverse order on odd ones, so that neighbouring cases are
    timed back to back in every round and neither always goes first.
    ``times[name][r]`` is the time of round ``r``: the cases' times of one
    round pair up (see :func:`paired_ratios`).

    Args:
        cases (dict): Name to build function (see module docstring).
        warmup (int): Untimed steps per case first.
        rounds (int): Timed rounds; each round runs one step of every case.

    Returns:
        dict: Name to ``dict(median=..., times=[...])``.
    """
    steps = {}
    for name, build in cases.items():
        steps[name] = build()
        for _ in range(warmup):
            steps[name]()
    times = {name: [] for name in cases}
    order = list(steps.items())
    for index in range(rounds):
        for name, step in order if index % 2 == 0 else order[::-1]:
            _sync()
            start = time.perf_counter()
            step()
            _sync()
            times[name].append(time.perf_counter() - start)
    gc.collect()
    return {
        name: dict(median=statistics.median(t), times=t)
        for name, t in times.items()
    }


def paired_ratios(num_times, den_times):
    """Per-round ratios ``num / den`` of two cases timed in the same rounds.

    A shared machine slows both cases of one round alike, so the ratio of a
    round is steadier than the ratio of two medians taken over different
    moments.

    Args:
        num_times (list[float]): Per-round times of the numerator case.
        den_times (list[float]): Per-round times of the denominator case.

    Returns:
        list[float]: One ratio per round.
    """
    if len(num_times) != len(den_times) or not num_times:
        raise ValueError(
            f'paired_ratios needs the same, non-zero number of rounds, got '
            f'{len(num_times)} and {len(den_times)}')
    return [a / b for a, b in zip(num_times, den_times)]


def ratio_stats(ratios):
    """Median, min, max and relative spread ``(max - min) / median`` of a
    list of per-round ratios."""
    median = statistics.median(ratios)
    low, high = min(ratios), max(ratios)
    return dict(median=median, min=low, max=high,
                spread=(high - low) / median)


def sgd_step_fn(model, inputs, data_samples, lr=0.01):
    """One training iteration of an mmengine model in ``loss`` mode."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9)

    def step():
        losses = model(inputs, data_samples, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def print_table(rows, columns=None):
    """Print a Markdown table of ``rows`` (list of dicts) in ``columns``
    (default: the keys of the first row)."""
    columns = list(rows[0]) if columns is None else columns
    print('| ' + ' | '.join(columns) + ' |')
    print('|' + '|'.join('---' for _ in columns) + '|')
    for row in rows:
        print('| ' + ' | '.join(str(row.get(c, '')) for c in columns) + ' |')


def case_rows(timings, peaks, reference, digits, between=None, after=None):
    """The rows of a method benchmark's table, one per case: ``case``,
    ``ms / iter (median)``, the ratio of its median to the reference case's
    (column ``x <reference>``) and its peak memory.

    Args:
        timings (dict): :func:`time_interleaved`'s result.
        peaks (dict): Case name to ``(kind, MiB)`` of :func:`peak_memory_mib`.
        reference (str): The case the ratios are taken to.
        digits (int): Decimals of the ratio.
        between (callable, optional): ``(case name, its timing)`` to a
            dict of more columns placed between the median and the ratio.
        after (callable, optional): ``(case name, its timing)`` to a dict
            of more columns placed after the peak memory.

    Returns:
        list[dict]: The rows, for :func:`print_table`.
    """
    base = timings[reference]['median']
    rows = []
    for name, timing in timings.items():
        kind, peak = peaks[name]
        median = timing['median']
        row = {'case': name, 'ms / iter (median)': f'{1000 * median:.0f}'}
        row.update(between(name, timing) if between else {})
        row[f'x {reference}'] = f'{median / base:.{digits}f}'
        row[f'peak memory (MiB, {kind})'] = f'{peak:.0f}'
        row.update(after(name, timing) if after else {})
        rows.append(row)
    return rows


def verdict(met):
    """``'met'`` or ``'MISSED'``: how a benchmark's target line ends."""
    return 'met' if met else 'MISSED'


def machine_line():
    device = torch.cuda.get_device_name() if torch.cuda.is_available() \
        else f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} ' \
        'torch threads)'
    return f'torch {torch.__version__} on {device}'


def parse_speed_args(description, size_flag, size_default, rounds=20,
                     warmup=3):
    """Parse a method benchmark's command line and set torch's threads.

    Args:
        description (str): The ``--help`` description.
        size_flag (str): The batch-size flag, e.g. ``'--batch-size'``.
        size_default (int): Its default.
        rounds (int): Default timed rounds.
        warmup (int): Default warm-up steps per case.

    Returns:
        argparse.Namespace: The arguments (``threads``, ``rounds``,
        ``warmup`` and the size flag's attribute).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(size_flag, type=int, default=size_default)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=rounds)
    parser.add_argument('--warmup', type=int, default=warmup)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings('ignore', category=UserWarning)
    return args


def measure_cases(cases, warmup, rounds, memory=True):
    """Peak memory of every case, then their interleaved timings.

    Memory comes first: each case runs in a child forked from a parent that
    has run no case yet (a child forked after multi-threaded kernels can
    hang, and one forked after the timing would reuse the parent's freed
    memory and hide its own peak).

    Args:
        cases (dict): Case name (a string or a tuple of strings) to its
            build function.
        warmup (int): Untimed steps per case.
        rounds (int): Timed interleaved rounds.
        memory (bool): Measure peak memory. Defaults to True.

    Returns:
        tuple: ``(peaks, timings)``: case name to ``(kind, MiB)`` of
        :func:`peak_memory_mib` (empty without ``memory``), and
        :func:`time_interleaved`'s result.
    """
    peaks = {}
    for name, build in cases.items() if memory else ():
        peaks[name] = peak_memory_mib(build)
        label = '/'.join(name) if isinstance(name, tuple) else name
        print(f'peak memory {label}: {peaks[name][1]:.0f} MiB', flush=True)
    return peaks, time_interleaved(cases, warmup=warmup, rounds=rounds)


def run_method_table(cases, args, setting, reference, digits, between=None,
                     after=None):
    """What a method benchmark prints before its targets: a line with the
    machine, ``setting`` and the rounds, each case's peak memory, then the
    table of :func:`case_rows`.

    Args:
        cases (dict): Case name to its build function.
        args (argparse.Namespace): :func:`parse_speed_args`'s result.
        setting (str): The pair, batch and inputs, for the first line.
        reference, digits, between, after: As for :func:`case_rows`.

    Returns:
        dict: :func:`time_interleaved`'s result.
    """
    print(f'{machine_line()}; {setting}, {args.rounds} interleaved rounds '
          f'after {args.warmup} warm-up steps', flush=True)
    peaks, timings = measure_cases(cases, args.warmup, args.rounds)
    print_table(case_rows(timings, peaks, reference, digits, between, after))
    return timings
