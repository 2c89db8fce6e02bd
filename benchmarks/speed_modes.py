"""Training-step time of every method in four modes (eager NCHW,
channels_last, compiled, both), next to a bare PyTorch KD loop.

Each method is built from its CIFAR-10 benchmark config (resnet20 teacher,
resnet8 student, teacher weights left random) and runs mmengine's
``train_step`` (data preprocessor, forward, loss parsing, backward, SGD
step) on one fixed batch of 64 synthetic 32x32 images, as the Runner does:

- ``eager``: as shipped;
- ``channels_last``: ``model.channels_last=True`` (``--channels-last``);
- ``compiled``: ``train_step`` compiled by ``torch.compile`` with the
  default inductor backend, as mmengine's ``compile=True`` (``--compile``);
- ``both``.

The bare loop is the same math without mmengine or the plugin: the same
two networks called directly (backbone, neck, classifier layer) on an
already normalised batch, the teacher under ``no_grad``, cross-entropy plus
the KD loss (tau 4), backward and ``torch.optim.SGD``; in the same four
modes (compiled: the step function through ``torch.compile``).

Each method runs in its own process, its cases timed interleaved there
(``speed_utils``); every ratio is the median of per-round ratios with the
rounds' min-max. A compiled case's first steps (compilation) are timed
separately and left out of its step time. One process per method, as the
Runner trains one model per process: compiled cases of several methods in
one process share dynamo's caches (the same ``train_step`` code), so that
a reset for one case makes another compile again inside the timed rounds,
and past dynamo's recompile limit (8 per function) the later cases run
eager. Peak memory is measured in a forked child for the
eager cases on a CPU (a compiled case would compile again in the child),
and in-process for every case on a GPU.

    python benchmarks/speed_modes.py [--methods KD CRD] [--rounds 10]

Writes ``speed_modes.md`` and ``speed_modes.json`` under ``--out-dir``.

Each method other than KD also times its KD reference (the same student:
KD into the resnet8 or into the ViT) in every mode, in its own process, so
that its ratio to KD pairs up round by round.

Targets: the best mode >= 1.5 x eager (per method); each method <= 1.05 x
its KD reference in its best mode; the plugin's KD step <= 1.05 x the bare
loop in the same mode.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
import warnings

import torch
import torch.nn.functional as F

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)

from speed_utils import (machine_line, paired_ratios,  # noqa: E402
                         peak_memory_mib, ratio_stats, time_interleaved)

CONFIG = '{}_1xb64_cifar10-jpeg-500pc.py'
#: Method to its config's name and the views per image (PCKD's rotations).
METHODS = {
    'KD': ('kd_resnet20_resnet8', 1),
    'CRD': ('crd_resnet20_resnet8', 1),
    'CRD+KD': ('crd+kd_resnet20_resnet8', 1),
    'MSDCRD': ('msdcrd_resnet20_resnet8', 1),
    'PCKD': ('pckd_resnet20_resnet8', 4),
    'KD, ViT student': ('kd_resnet20_vit-tiny-p4', 1),
    'LFCC, ViT student': ('lfcc_resnet20_vit-tiny-p4', 1),
}
MODES = ('eager', 'channels_last', 'compiled', 'both')
BATCH = 64
TAU = 4.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--methods', nargs='+', choices=list(METHODS),
                        default=list(METHODS), help='methods to time')
    parser.add_argument('--modes', nargs='+', choices=MODES,
                        default=list(MODES), help='modes to time')
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps per case (a compiled case '
                        'compiles in them)')
    parser.add_argument('--batch-size', type=int, default=BATCH)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--backend', default='inductor',
                        help='torch.compile backend of the compiled modes')
    parser.add_argument('--no-memory', action='store_true')
    parser.add_argument('--out-dir', default='work_dirs/benchmarks/speed')
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 1 or args.batch_size < 1:
        parser.error('--rounds, --warmup and --batch-size must be >= 1')
    return args


def synthetic_data(batch_size, views=1, seed=0):
    """A ``train_step`` batch: uint8 images (with ``views`` > 1, each as
    its ``views`` quarter-turn rotations, ``(V, 3, 32, 32)``) and labelled
    data samples with distinct ``sample_idx`` (CRD's banks)."""
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=gen)
        for _ in range(batch_size)
    ]
    if views > 1:
        inputs = [
            torch.stack([torch.rot90(x, k, (1, 2)) for k in range(views)])
            for x in inputs
        ]
    labels = torch.randint(0, 10, (batch_size, ), generator=gen)
    samples = [
        DataSample(metainfo=dict(sample_idx=i)).set_gt_label(int(y))
        for i, y in enumerate(labels)
    ]
    return dict(inputs=inputs, data_samples=samples)


def build_distiller(method, channels_last):
    from mmengine.config import Config
    from speed_cases import ROOT, build_quietly

    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'benchmarks',
                 CONFIG.format(METHODS[method][0])))
    cfg.model.teacher_ckpt = None
    cfg.model.channels_last = channels_last
    if cfg.get('data_preprocessor') is not None:
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = build_quietly(cfg.model)
    preview = getattr(model, 'preview', None)
    if getattr(preview, 'final_threshold', None) is not None:
        # What DistillEpochHook tells PCKD during training.
        preview.set_max_epochs(cfg.train_cfg.max_epochs)
    return model


def plugin_case(method, mode, batch_size, backend, amp=False,
                compiled=None):
    """Build function of one method in one mode: mmengine's train_step
    with an SGD optimizer wrapper.

    Args:
        method (str): A key of :data:`METHODS`.
        mode (str): One of :data:`MODES`.
        batch_size (int): Images per batch.
        backend (str): ``torch.compile`` backend.
        amp (bool): Mixed precision, as ``tools/train.py --amp``: fp16
            ``AmpOptimWrapper`` on a GPU, bf16 ``AutocastOptimWrapper`` on
            a CPU.
        compiled (bool, optional): Compile; by default the mode says.
    """
    if compiled is None:
        compiled = mode in ('compiled', 'both')

    def build():
        from mmengine.optim import AmpOptimWrapper, OptimWrapper

        from mmkd_contrast.engine.optimizers import AutocastOptimWrapper

        torch.manual_seed(0)
        model = build_distiller(method, mode in ('channels_last', 'both'))
        if torch.cuda.is_available():
            model.cuda()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)
        if not amp:
            wrapper = OptimWrapper(optimizer)
        elif torch.cuda.is_available():
            wrapper = AmpOptimWrapper(loss_scale='dynamic',
                                      optimizer=optimizer)
        else:
            wrapper = AutocastOptimWrapper(optimizer=optimizer)
        data = synthetic_data(batch_size, METHODS[method][1])
        step_fn = model.train_step
        if compiled:
            step_fn = torch.compile(model.train_step, backend=backend)

        def step():
            step_fn(data, wrapper)

        return step

    return build


def bare_kd_case(channels_last, batch_size, compiled=False,
                 backend='inductor'):
    """The KD step of the same networks in plain PyTorch; with
    ``compiled``, the step function compiled by ``torch.compile`` (as
    mmengine compiles ``train_step``)."""

    def build():
        torch.manual_seed(0)
        model = build_distiller('KD', False)
        student, teacher = model.student, model.teacher
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        student.to(device, memory_format=fmt)
        teacher.to(device, memory_format=fmt)
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(batch_size, 3, 32, 32, generator=gen).to(
            device, memory_format=fmt)
        y = torch.randint(0, 10, (batch_size, ), generator=gen).to(device)
        params = [p for p in student.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9)

        def logits(net, inputs):
            return net.head.fc(net.neck(net.backbone(inputs))[-1])

        def step():
            with torch.no_grad():
                t_logits = logits(teacher, x)
            s_logits = logits(student, x)
            kd = F.kl_div(F.log_softmax(s_logits / TAU, dim=1),
                          F.log_softmax(t_logits / TAU, dim=1),
                          reduction='batchmean', log_target=True)
            loss = F.cross_entropy(s_logits, y) + kd * TAU**2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        return torch.compile(step, backend=backend) if compiled else step

    return build


def timed_warmup(cases, warmup):
    """Wrap each build so that its first ``warmup`` steps (compilation
    included) run, and are timed, at build time.

    Returns:
        tuple: ``(cases, firsts)``: the wrapped builds, and a dict filled
        with each case's list of warm-up step seconds when it is built.
    """
    firsts = {}

    def wrap(name, build):

        def built():
            step = build()
            times = []
            for _ in range(warmup):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            firsts[name] = times
            return step

        return built

    return {name: wrap(name, b) for name, b in cases.items()}, firsts


#: The KD case each method is compared with (the same student).
REFERENCE = {
    'CRD': 'KD',
    'CRD+KD': 'KD',
    'MSDCRD': 'KD',
    'PCKD': 'KD',
    'LFCC, ViT student': 'KD, ViT student',
}


def reference_name(ref, method):
    """Name of the KD reference case timed in ``method``'s process."""
    return f'{ref} beside {method}'


def build_cases(methods, modes, batch_size, backend):
    """Every method in every mode; KD's bare loop in every mode; and, for
    a method whose KD reference is not timed with it, that reference in
    every mode (named by :func:`reference_name`), so that the method's
    ratio to KD pairs up round by round in the same process."""
    cases = {}
    for method in methods:
        ref = REFERENCE.get(method)
        for mode in modes:
            cases[(method, mode)] = plugin_case(method, mode, batch_size,
                                                backend)
            if method == 'KD':
                cases[('bare KD loop', mode)] = bare_kd_case(
                    mode in ('channels_last', 'both'), batch_size,
                    mode in ('compiled', 'both'), backend)
            if ref is not None and ref not in methods:
                cases[(reference_name(ref, method), mode)] = plugin_case(
                    ref, mode, batch_size, backend)
    return cases


def result_rows(times, firsts, peaks):
    """One row per case: ms per step, x its method's eager step, compile
    (first-step) seconds and peak memory."""
    rows = []
    for (method, mode), per_round in times.items():
        ref = (method, 'eager')
        stats = (ratio_stats(paired_ratios(per_round, times[ref]))
                 if ref in times else None)
        median = statistics.median(per_round)
        first = firsts.get((method, mode), [0.])[0]
        rows.append(
            dict(method=method, mode=mode, ms=1000 * median,
                 x_eager=stats and stats['median'],
                 x_eager_min=stats and stats['min'],
                 x_eager_max=stats and stats['max'],
                 first_step_s=first,
                 compile_s=max(first - median, 0.)
                 if mode in ('compiled', 'both') else None,
                 peak_mib=peaks.get((method, mode))))
    return rows


def _fmt(value, spec):
    return '' if value is None else format(value, spec)


def markdown(rows):
    lines = [
        '| method | mode | ms / step (median) | x eager (rounds min-max) '
        '| compile s (first step - median) | peak memory (MiB) |',
        '|---|---|---|---|---|---|'
    ]
    for r in rows:
        ratio = ('' if r['x_eager'] is None else
                 f'{r["x_eager"]:.3f} ({r["x_eager_min"]:.3f}-'
                 f'{r["x_eager_max"]:.3f})')
        lines.append(f'| {r["method"]} | {r["mode"]} | {r["ms"]:.1f} | '
                     f'{ratio} | {_fmt(r["compile_s"], ".1f")} | '
                     f'{_fmt(r["peak_mib"], ".0f")} |')
    return '\n'.join(lines) + '\n'


def target_lines(times):
    """Speed-up of each method's best mode over eager, the plugin's KD
    step over the bare loop in the same mode, and each method over its KD
    reference in its best mode."""
    lines, best_modes = [], {}
    methods = sorted({
        m for m, _ in times
        if m != 'bare KD loop' and ' beside ' not in m
    })
    for method in methods:
        if (method, 'eager') not in times:
            continue
        best = None
        for mode in MODES[1:]:
            if (method, mode) in times:
                speed = 1 / statistics.median(
                    paired_ratios(times[(method, mode)],
                                  times[(method, 'eager')]))
                if best is None or speed > best[1]:
                    best = (mode, speed)
        if best:
            best_modes[method] = best[0]
            verdict = 'met' if best[1] >= 1.5 else 'MISSED'
            lines.append(f'{method}: best mode {best[0]} = {best[1]:.2f}x '
                         f'eager (target >= 1.5: {verdict})')
    for mode in MODES:
        bare = ('bare KD loop', mode)
        if bare not in times or ('KD', mode) not in times:
            continue
        stats = ratio_stats(paired_ratios(times[('KD', mode)], times[bare]))
        verdict = 'met' if stats['median'] <= 1.05 else 'MISSED'
        lines.append(
            f'KD {mode} / bare loop {mode} = {stats["median"]:.3f} '
            f'(rounds {stats["min"]:.3f}-{stats["max"]:.3f}) '
            f'(target <= 1.05: {verdict})')
    lines.extend(kd_ratio_lines(times, best_modes))
    return lines


def kd_ratio_lines(times, best_modes):
    """Each method's step over its KD reference's (:data:`REFERENCE`) in
    the method's best mode, paired by round with the reference timed in
    the same process."""
    lines = []
    for method, mode in sorted(best_modes.items()):
        ref = REFERENCE.get(method)
        if ref is None:
            continue
        ref_key = (reference_name(ref, method), mode)
        if ref_key not in times:
            ref_key = (ref, mode)
        if ref_key not in times:
            continue
        stats = ratio_stats(paired_ratios(times[(method, mode)],
                                          times[ref_key]))
        verdict = 'met' if stats['median'] <= 1.05 else 'MISSED'
        lines.append(f'{method} / {ref} in {mode} = {stats["median"]:.2f} '
                     f'(rounds {stats["min"]:.2f}-{stats["max"]:.2f}) '
                     f'(target <= 1.05: {verdict})')
    return lines


def measure_here(args):
    """Peak memory and interleaved timings of ``args.methods``' cases in
    this process.

    Returns:
        tuple: ``(times, firsts, peaks)``: case to its per-round seconds,
        to its warm-up step seconds, and to its peak MiB.
    """
    cases = build_cases(args.methods, args.modes, args.batch_size,
                        args.backend)
    peaks = {}
    if not args.no_memory:
        for key, build in cases.items():
            if ' beside ' in key[0]:
                continue  # KD's own process measures it
            if torch.cuda.is_available() or key[1] in ('eager',
                                                       'channels_last'):
                peaks[key] = peak_memory_mib(build)[1]
                print(f'peak memory {key}: {peaks[key]:.0f} MiB',
                      flush=True)
    wrapped, firsts = timed_warmup(cases, args.warmup)
    print(f'{machine_line()}; {len(cases)} cases, {args.rounds} '
          f'interleaved rounds after {args.warmup} warm-up steps each',
          flush=True)
    timings = time_interleaved(wrapped, warmup=0, rounds=args.rounds)
    times = {key: t['times'] for key, t in timings.items()}
    return times, firsts, peaks


def _key_text(key):
    return '/'.join(key)


def _text_key(text):
    return tuple(text.split('/', 1))


def measure_each_method(args, argv):
    """Run this script once per method, each in a fresh process, and merge
    what the children wrote (see the module docstring for why)."""
    times, firsts, peaks = {}, {}, {}
    for index, method in enumerate(args.methods):
        child_dir = osp.join(args.out_dir, f'method_{index}')
        rest = _without_option(_without_option(argv, '--methods'),
                               '--out-dir')
        command = [sys.executable, osp.abspath(__file__), '--methods',
                   method, *rest, '--out-dir', child_dir]
        print(f'--- {method}: a fresh process', flush=True)
        subprocess.run(command, check=True)
        with open(osp.join(child_dir, 'speed_modes.json')) as f:
            child = json.load(f)
        times.update({_text_key(k): v for k, v in child['times'].items()})
        firsts.update({_text_key(k): v for k, v in child['firsts'].items()})
        peaks.update({(r['method'], r['mode']): r['peak_mib']
                      for r in child['rows'] if r['peak_mib'] is not None})
    return times, firsts, peaks


def _without_option(argv, option):
    """``argv`` without ``option`` and the values that follow it."""
    out, skipping = [], False
    for arg in argv:
        if arg == option or arg.startswith(option + '='):
            skipping = arg == option
            continue
        if skipping and not arg.startswith('--'):
            continue
        skipping = False
        out.append(arg)
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings('ignore', category=UserWarning)
    if len(args.methods) > 1:
        times, firsts, peaks = measure_each_method(args, argv)
    else:
        times, firsts, peaks = measure_here(args)
    rows = result_rows(times, firsts, peaks)
    table = markdown(rows)
    lines = target_lines(times)
    print()
    print(table)
    for line in lines:
        print(line)
    os.makedirs(args.out_dir, exist_ok=True)
    stem = osp.join(args.out_dir, 'speed_modes')
    with open(stem + '.md', 'w') as f:
        f.write(machine_line() + '\n\n' + table + '\n' +
                '\n'.join(f'- {line}' for line in lines) + '\n')
    with open(stem + '.json', 'w') as f:
        json.dump(dict(rows=rows,
                       firsts={_key_text(k): v for k, v in firsts.items()},
                       times={_key_text(k): v for k, v in times.items()}),
                  f, indent=1)
    print(f'\nWrote {stem}.md and {stem}.json')


if __name__ == '__main__':
    main()
