"""Training-iteration time and peak memory of every method in one run,
with a peer: the CRD loss of the ``torchdistill`` package.

The cases come from the method benchmarks (``build_cases`` of
``speed_msdcrd.py``, ``speed_pckd.py`` and ``speed_lfcc.py``, whichever
exist) and are all timed in one process, interleaved (A, B, C, then C, B,
A, ...), so that drift of the machine hits every case alike. Every ratio
is the median of the per-round ratios of two cases timed in the same round
(a target's two cases are neighbours, timed back to back), reported with
the min-max over the rounds; a target whose rounds spread wider than
``--max-spread`` across its bound is reported UNCLEAR (the machine was too
busy to tell). Settings:

- CIFAR pair resnet32x4 -> resnet8x4, batch 64, 32x32: student alone, KD,
  MSDCRD, CRD (50,000-row banks, 16,384 negatives).
- PCKD on the same pair: 64 images x 4 rotated views = 256 samples, and
  KD on the same 256 samples (the reference of PCKD's target).
- DeiT-T -> ResNet-18, batch 16, 224x224: student alone, KD, LFCC (the
  config as shipped, per-channel learnable filters), LFCC with the dense
  learnable filter.
- CRD loss alone (forward + backward of the loss on fixed embeddings, bank
  update included): this project's ``CRDLoss`` and torchdistill's
  ``CRDLoss`` on the same 64 x 128-d embeddings, the same 50,000-row banks
  and the same 16,384 negatives per anchor; and this project's loss drawing
  its negatives in every step, uniformly with replacement or class-aware
  without replacement (the shipped configs' ``neg_sampling``). Needs
  ``pip install --no-deps -r requirements/benchmarks.txt``; left out
  (and said so) when torchdistill is not installed.

    python benchmarks/speed_all.py [--rounds 10] [--threads 2]

Writes ``speed_all.md``, ``speed_all.csv`` and ``speed_all.png`` (time per
iteration per method) under ``--out-dir``.

Targets: CRD (this project) <= 1.0 x the peer's; MSDCRD <= 1.10 x KD and
below CRD; PCKD <= 1.10 x KD on the same 256 samples; LFCC <= 1.10 x KD.
"""
import argparse
import csv
import importlib
import io
import json
import os
import os.path as osp
import statistics
import sys
import warnings
from collections import namedtuple

import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)

from speed_utils import (machine_line, measure_cases,  # noqa: E402
                         paired_ratios, ratio_stats)

# A setting: its cases (name -> build function), in table order, and the
# (setting key, case name) of its student-alone and KD references.
Setting = namedtuple('Setting', 'key title cases student kd')
# A target: numerator and denominator (setting key, case name), bound, and
# whether the ratio must be strictly below the bound.
Target = namedtuple('Target', 'label num den bound strict')

CRD_BATCH = 64
CRD_DIM = 128
CRD_NUM_SAMPLES = 50000
CRD_NEGATIVES = 16384
PEER = 'torchdistill'
#: A target whose per-round ratios spread wider than this (max - min over
#: the median) around its bound is reported UNCLEAR.
MAX_SPREAD = 0.25


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=10,
                        help='timed interleaved rounds (default 10)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed steps per case first (default 2)')
    parser.add_argument('--threads', type=int, default=2,
                        help='torch threads (default 2)')
    parser.add_argument(
        '--only', nargs='+', choices=['cifar', 'pckd', 'lfcc', 'crd_loss'],
        help='time only these settings')
    parser.add_argument(
        '--max-spread', type=float, default=MAX_SPREAD,
        help='flag a ratio whose per-round spread (max - min) / median '
        f'exceeds this; UNCLEAR when it also straddles the target '
        f'(default {MAX_SPREAD})')
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory measurement')
    parser.add_argument('--out-dir', default='work_dirs/benchmarks/speed')
    parser.add_argument(
        '--png', help='chart file (default <out-dir>/speed_all.png)')
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.threads < 1:
        parser.error('--rounds and --threads must be at least 1, --warmup '
                     'at least 0')
    if not args.max_spread > 0:
        parser.error('--max-spread must be positive')
    return args


def import_benchmark(name):
    """The module ``benchmarks/<name>.py``, or None if the file is absent."""
    if not osp.isfile(osp.join(HERE, name + '.py')):
        return None
    return importlib.import_module(name)


def peer_available():
    try:
        importlib.import_module('torchdistill.losses.mid_level')
    except ImportError:
        return False
    return True


def crd_loss_cases(batch=CRD_BATCH, dim=CRD_DIM, num_samples=CRD_NUM_SAMPLES,
                   negatives=CRD_NEGATIVES, seed=0):
    """This project's and the peer's CRD loss on identical inputs.

    Both get the same L2-normalised student and teacher embeddings (leaf
    tensors that receive the gradient), the same dataset indices, the same
    negatives (drawn once with this project's sampler; the peer is handed
    them as ``contrast_idx``) and the same initial banks (the peer's are
    overwritten with this project's). One step = loss forward (bank update
    included, as both do it inside the loss) + backward.

    Returns:
        tuple: ``(cases, check)``: name -> build function, and a function
        returning the two losses' values on a fresh first call (they agree
        to float precision; the peer is built with ``eps=0`` for this
        check, its only difference from the formula, instead of its default
        1e-7 added to every ``P + K/N``).
    """
    import torch.nn.functional as F

    from mmkd_contrast.models.losses import CRDLoss

    gen = torch.Generator().manual_seed(seed)
    s_emb = F.normalize(torch.randn(batch, dim, generator=gen), dim=1)
    t_emb = F.normalize(torch.randn(batch, dim, generator=gen), dim=1)
    pos_idx = torch.randperm(num_samples, generator=gen)[:batch]
    neg_idx = CRDLoss(num_samples, dim, negatives).sample_negatives(
        pos_idx, generator=gen)
    contrast_idx = torch.cat([pos_idx[:, None], neg_idx], dim=1)

    def inputs():
        return (s_emb.clone().requires_grad_(),
                t_emb.clone().requires_grad_())

    def ours():
        loss_fn = CRDLoss(num_samples, dim, negatives).train()
        s, t = inputs()

        def loss():
            return loss_fn(s, t, pos_idx, neg_idx=neg_idx)

        return loss_fn, loss, (s, t)

    def peer(eps=1e-7):
        from torchdistill.losses.mid_level import CRDLoss as PeerCRDLoss

        reference = CRDLoss(num_samples, dim, negatives)
        loss_fn = PeerCRDLoss(
            student_norm_module_path='student_embed',
            student_empty_module_path='student_indices',
            teacher_norm_module_path='teacher_embed',
            input_size=dim, output_size=num_samples,
            num_negative_samples=negatives, num_samples=num_samples,
            temperature=0.07, momentum=0.5, eps=eps).train()
        # memory_v1 holds student embeddings, memory_v2 teacher ones.
        loss_fn.memory_v1.copy_(reference.bank.memory_s)
        loss_fn.memory_v2.copy_(reference.bank.memory_t)
        s, t = inputs()
        indices = dict(pos_idx=pos_idx, contrast_idx=contrast_idx)

        def loss():
            return loss_fn(
                dict(student_embed=dict(output=s),
                     student_indices=dict(input=indices)),
                dict(teacher_embed=dict(output=t)))

        return loss_fn, loss, (s, t)

    def as_case(make):

        def build():
            _, loss, leaves = make()

            def step():
                for leaf in leaves:
                    leaf.grad = None
                loss().backward()

            return step

        return build

    def ours_sampling(neg_sampling):
        # Negatives drawn inside every step, as in training; every row's
        # label known (as from the second epoch on), 100 classes.
        row_labels = torch.randperm(num_samples, generator=gen) % 100

        def make():
            loss_fn = CRDLoss(num_samples, dim, negatives,
                              neg_sampling=neg_sampling).train()
            loss_fn.bank.memory_labels.copy_(row_labels)
            s, t = inputs()

            def loss():
                return loss_fn(s, t, pos_idx, labels=row_labels[pos_idx])

            return loss_fn, loss, (s, t)

        return make

    def check():
        return float(ours()[1]()), float(peer(eps=0.)[1]())

    cases = {
        'CRD loss (this project)': as_case(ours),
        'CRD loss + uniform sampling (this project)':
        as_case(ours_sampling('random')),
        'CRD loss + class-aware sampling (this project)':
        as_case(ours_sampling('other_class')),
    }
    if peer_available():
        cases[f'CRD loss ({PEER})'] = as_case(peer)
    return cases, check


def lfcc_student_case(speed_lfcc, batch_size):
    """The student of the LFCC pair (ResNet-18) trained alone, on the
    inputs of ``speed_lfcc``."""
    from speed_cases import build_model, training_case

    return training_case(
        lambda: build_model(speed_lfcc.CONFIG,
                            lambda cfg: cfg.model.student),
        lambda model: speed_lfcc.make_batch(batch_size))


def build_settings(only=None):
    """The settings whose benchmark files exist, and notes on the others.

    Returns:
        tuple: ``(settings, notes)``: a list of :class:`Setting` and a list
        of strings saying what was left out and why.
    """
    settings, notes = [], []
    want = set(only or ['cifar', 'pckd', 'lfcc', 'crd_loss'])
    msdcrd = import_benchmark('speed_msdcrd')
    if 'cifar' in want or 'pckd' in want:
        if msdcrd is None:
            notes.append('benchmarks/speed_msdcrd.py missing: no student '
                         'alone / KD / CRD / MSDCRD cases')
        else:
            cases = msdcrd.build_cases(batch_size=64)
            if 'cifar' not in want:  # keep the references for PCKD
                cases = {k: v for k, v in cases.items()
                         if k in ('student alone', 'KD')}
            # MSDCRD between KD and CRD: timed back to back with both of
            # its references in every round.
            order = ['student alone', 'KD', 'MSDCRD', 'CRD']
            cases = dict(
                sorted(cases.items(),
                       key=lambda kv: order.index(kv[0])
                       if kv[0] in order else len(order)))
            settings.append(
                Setting('cifar', 'resnet32x4 -> resnet8x4, batch 64, 32x32',
                        cases, ('cifar', 'student alone'), ('cifar', 'KD')))
    if 'pckd' in want:
        pckd = import_benchmark('speed_pckd')
        if pckd is None:
            notes.append('benchmarks/speed_pckd.py missing: no PCKD case')
        else:
            cases = pckd.build_cases(images=64)
            kd_name = next(k for k in cases if k.startswith('KD'))
            student_name = next(k for k in cases if k.startswith('student'))
            keep = {'PCKD': cases['PCKD'], kd_name: cases[kd_name]}
            student = ('cifar', 'student alone')
            if msdcrd is None:
                keep[student_name] = cases[student_name]
                student = ('pckd', student_name)
            settings.append(
                Setting('pckd', 'resnet32x4 -> resnet8x4, PCKD: 64 images x '
                        '4 rotated views = 256 samples', keep, student,
                        ('pckd', kd_name)))
    if 'lfcc' in want:
        lfcc = import_benchmark('speed_lfcc')
        if lfcc is None:
            notes.append('benchmarks/speed_lfcc.py missing: no LFCC case')
        else:
            cases = dict(
                {'student alone': lfcc_student_case(lfcc, 16)},
                **lfcc.build_cases(batch_size=16))
            settings.append(
                Setting('lfcc', 'DeiT-T -> ResNet-18, batch 16, 224x224',
                        cases, ('lfcc', 'student alone'), ('lfcc', 'KD')))
    if 'crd_loss' in want:
        cases, _ = crd_loss_cases()
        if not peer_available():
            notes.append(f'{PEER} not installed (pip install --no-deps -r '
                         'requirements/benchmarks.txt): no peer case')
        settings.append(
            Setting('crd_loss', f'CRD loss alone: batch {CRD_BATCH}, '
                    f'{CRD_DIM}-d, {CRD_NUM_SAMPLES:,}-row banks, '
                    f'{CRD_NEGATIVES:,} negatives', cases, None, None))
    return settings, notes


def targets_for(settings):
    """The targets whose cases are all present."""
    present = {(s.key, name) for s in settings for name in s.cases}
    pckd_kd = next((s.kd for s in settings if s.key == 'pckd'), None)
    targets = [
        Target('CRD loss: this project / torchdistill',
               ('crd_loss', 'CRD loss (this project)'),
               ('crd_loss', f'CRD loss ({PEER})'), 1.0, False),
        Target('MSDCRD / KD', ('cifar', 'MSDCRD'), ('cifar', 'KD'), 1.10,
               False),
        Target('MSDCRD / CRD', ('cifar', 'MSDCRD'), ('cifar', 'CRD'), 1.0,
               True),
        Target(f'PCKD / {pckd_kd[1] if pckd_kd else "KD (256)"}',
               ('pckd', 'PCKD'), pckd_kd, 1.10, False),
    ]
    # The target is the config as shipped; variants that speed_lfcc.py
    # times besides it (the dense filter) keep their ratio in the table.
    targets.append(
        Target('LFCC / KD', ('lfcc', 'LFCC'), ('lfcc', 'KD'), 1.10, False))
    return [t for t in targets if t.num in present and t.den in present]


def target_line(target, times, max_spread=MAX_SPREAD):
    """``'<label> = <ratio> (rounds <min>-<max>, spread <s>%)  (target <= b:
    met)'``: the median of the per-round paired ratios and their range.

    When the rounds' ratios lie on both sides of the bound and their
    spread ``(max - min) / median`` exceeds ``max_spread``, the machine was
    too noisy to tell: the verdict is ``UNCLEAR`` instead of met/MISSED. A
    spread above ``max_spread`` is flagged in any case.
    """
    stats = ratio_stats(paired_ratios(times[target.num], times[target.den]))
    ratio = stats['median']
    met = ratio < target.bound if target.strict else ratio <= target.bound
    sign = '<' if target.strict else '<='
    verdict = 'met' if met else 'MISSED'
    wide = stats['spread'] > max_spread
    if wide and stats['min'] <= target.bound <= stats['max']:
        verdict = 'UNCLEAR'
    note = (f'; spread {100 * stats["spread"]:.0f}% > '
            f'{100 * max_spread:.0f}%: too wide to judge, rerun on a quieter '
            'machine' if wide else '')
    return (f'{target.label} = {ratio:.3f} (rounds {stats["min"]:.3f}-'
            f'{stats["max"]:.3f}, spread {100 * stats["spread"]:.0f}%)  '
            f'(target {sign} {target.bound:.2f}: {verdict}{note})')


def result_rows(settings, times, peaks=None):
    """One row per case: setting, case, median ms per iteration, the
    median per-round ratio to the setting's student alone and to its KD
    (empty where there is none) with the range of the KD ratio, peak
    memory in MiB (empty when not measured).

    Args:
        settings (list[Setting]): The settings.
        times (dict): ``(setting key, case)`` to its per-round seconds.
        peaks (dict, optional): ``(setting key, case)`` to MiB.
    """
    peaks = peaks or {}
    rows = []
    for setting in settings:
        for name in setting.cases:
            key = (setting.key, name)
            row = dict(setting=setting.title, case=name,
                       ms=1000 * statistics.median(times[key]))
            for column, ref in (('x_student', setting.student),
                                ('x_kd', setting.kd)):
                stats = (ratio_stats(paired_ratios(times[key], times[ref]))
                         if ref is not None and ref in times else None)
                row[column] = stats and stats['median']
                if column == 'x_kd':
                    row['x_kd_min'] = stats and stats['min']
                    row['x_kd_max'] = stats and stats['max']
            row['peak_mib'] = peaks.get(key)
            rows.append(row)
    return rows


def _fmt(value, spec):
    return '' if value is None else format(value, spec)


def markdown_table(rows):
    lines = [
        '| setting | case | ms / iter (median) | x student alone | x KD | '
        'x KD, rounds min-max | peak memory (MiB) |',
        '|---|---|---|---|---|---|---|'
    ]
    for row in rows:
        spread = ('' if row['x_kd_min'] is None else
                  f'{row["x_kd_min"]:.3f}-{row["x_kd_max"]:.3f}')
        lines.append(
            f'| {row["setting"]} | {row["case"]} | {row["ms"]:.0f} | '
            f'{_fmt(row["x_student"], ".2f")} | {_fmt(row["x_kd"], ".3f")} '
            f'| {spread} | {_fmt(row["peak_mib"], ".0f")} |')
    return '\n'.join(lines) + '\n'


def csv_text(rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['setting', 'case', 'ms_per_iter_median', 'x_student',
                     'x_kd', 'x_kd_min', 'x_kd_max', 'peak_mib'])
    for row in rows:
        writer.writerow([
            row['setting'], row['case'], f'{row["ms"]:.1f}',
            _fmt(row['x_student'], '.3f'), _fmt(row['x_kd'], '.3f'),
            _fmt(row['x_kd_min'], '.3f'), _fmt(row['x_kd_max'], '.3f'),
            _fmt(row['peak_mib'], '.0f')
        ])
    return out.getvalue()


def chart_groups(settings, rows):
    """:func:`plots.speed_chart` groups: one panel per setting, baselines
    (student alone, KD, and the peer) in grey."""
    groups = []
    for setting in settings:
        refs = {r[1] for r in (setting.student, setting.kd)
                if r is not None and r[0] == setting.key}
        cases = [(row['case'], row['ms'],
                  row['case'] in refs or PEER in row['case'])
                 for row in rows if row['setting'] == setting.title]
        groups.append((setting.title, cases))
    return groups


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings('ignore', category=UserWarning)
    from plots import speed_chart

    settings, notes = build_settings(args.only)
    for note in notes:
        print(f'!! {note}', flush=True)
    cases = {(s.key, name): build for s in settings
             for name, build in s.cases.items()}
    print(f'{machine_line()}; {len(cases)} cases, {args.rounds} interleaved '
          f'rounds after {args.warmup} warm-up steps each', flush=True)
    measured, timings = measure_cases(cases, args.warmup, args.rounds,
                                      memory=not args.no_memory)
    peaks = {key: mib for key, (_, mib) in measured.items()}
    kind = next((k for k, _ in measured.values()), None)
    # After the memory phase, whose children must fork from a parent that
    # has run nothing yet.
    if any(s.key == 'crd_loss' for s in settings) and peer_available():
        ours, peer = crd_loss_cases()[1]()
        print(f'CRD loss values on identical first calls: this project '
              f'{ours:.6f}, {PEER} (eps=0) {peer:.6f} (relative difference '
              f'{abs(ours - peer) / abs(peer):.1e})', flush=True)
    times = {key: t['times'] for key, t in timings.items()}
    os.makedirs(args.out_dir, exist_ok=True)
    stem = osp.join(args.out_dir, 'speed_all')
    with open(stem + '_times.json', 'w') as f:
        json.dump(
            {f'{k[0]}/{k[1]}': t['times'] for k, t in timings.items()}, f)
    rows = result_rows(settings, times, peaks)
    table = markdown_table(rows)
    lines = [
        target_line(t, times, args.max_spread) for t in targets_for(settings)
    ]
    print()
    print(table)
    if kind is not None:
        what = ('growth of the peak resident set of a forked child (CPU)'
                if kind == 'cpu' else 'peak allocated GPU memory')
        print(f'Peak memory: {what}.')
    for line in lines:
        print(line)

    with open(stem + '.md', 'w') as f:
        f.write(machine_line() + '\n\n' + table + '\n' +
                '\n'.join(f'- {line}' for line in lines) + '\n')
    with open(stem + '.csv', 'w') as f:
        f.write(csv_text(rows))
    png = args.png or stem + '.png'
    speed_chart(chart_groups(settings, rows), png,
                title=f'Median time per training iteration ({machine_line()})')
    print(f'\nWrote {stem}.md, {stem}.csv, {png}')


if __name__ == '__main__':
    main()
