"""Top-1 of every distillation method on the embedded MNIST subset, on a
CPU: mean ± std over seeds, gain over the student alone, a Markdown table,
a CSV file and a bar chart with error bars.

Protocol (fixed; the figures in docs/benchmarks.md come from it):

- Data: ``EmbeddedMNIST`` with its fixed split (per digit, the first 400
  images of the file train, the last 100 test). Every student trains on the
  first ``SUBSET_PER_CLASS`` = 50 training images of each digit (500
  images) and is evaluated on the whole test split (1,000 images). The
  reported top-1 is the one after the last epoch; there is no selection of
  the best epoch on the test split.
- Teachers: trained once, on the full training split (4,000 images), with
  their quickstart configs as they are (seed 0), and cached under
  ``work_dirs/benchmarks/teachers/<name>/``; a later run reuses them. The
  CNN teacher is the quickstart ResNet-18 at width 16 (the same family as
  the student); LFCC uses the tiny ViT of its quickstart (another family).
- Student: the quickstart ResNet-18 at width 4 (44 k parameters).
- Schedule, the same for every method: the quickstart AdamW schedule (lr
  5e-3, weight decay 0.05, batch 64, cosine decay) over ``EPOCHS`` = 40
  epochs, validated once at the end.
- Methods, each trained from the config a user runs (``tools/train.py``
  with ``--cfg-options`` for the protocol, one subprocess per run): student
  alone, KD, CRD (``configs/benchmarks/``, its banks sized to the subset,
  ``K / N`` kept at the paper's 16384 / 50000), MSDCRD, PCKD, LFCC, from
  ``configs/quickstart/``. LFCC's objective is CE + KD + the LFCC terms
  and its teacher differs, so KD from the same ViT teacher
  (``configs/benchmarks/``) is run too, as LFCC's own reference. A method
  whose config is missing is reported as not run.
- Seeds 0, 1, 2 (``randomness.seed``; they change the student's
  initialisation, the data order and the augmentation). ``--quick`` runs
  seed 0 only.

    python benchmarks/accuracy_embedded.py [--quick] [--jobs 2]

Outputs (under ``--out-dir``, default ``work_dirs/benchmarks/accuracy``):
``accuracy_embedded.md``, ``accuracy_embedded.csv``,
``accuracy_embedded.png`` and one work dir per run.
"""
import argparse
import csv
import io
import json
import os
import os.path as osp
import statistics
import sys
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy_common as common  # noqa: E402
from accuracy_common import (CONFIGS, TEACHER_SEED,  # noqa: E402,F401
                             agreement_table, config_digest, ensure_teacher,
                             format_mean_std, last_agreement, last_top1,
                             slug, teacher_stamp, train)

SUBSET_PER_CLASS = 50
EPOCHS = 40
SEEDS = (0, 1, 2)
NUM_CLASSES = 10
# CRD's negatives per bank row, as in the paper's CIFAR-100 runs.
CRD_NEGATIVE_RATIO = 16384 / 50000

Teacher = namedtuple('Teacher', 'key label config')
Method = namedtuple('Method', 'name config teacher')

TEACHERS = [
    Teacher('cnn', 'ResNet-18 w16 (CNN)',
            'quickstart/teacher_resnet18-w16_1xb64_mnist5k.py'),
    Teacher('vit', 'tiny ViT (4 blocks, 64-d)',
            'quickstart/teacher_vit-tiny_1xb64_mnist5k.py'),
]
BASELINE = 'student alone'
METHODS = [
    Method(BASELINE, 'quickstart/student_resnet18-w4_1xb64_mnist5k.py',
           None),
    Method('KD', 'quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'cnn'),
    Method('CRD', 'benchmarks/crd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'cnn'),
    Method('MSDCRD',
           'quickstart/msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'cnn'),
    Method('PCKD',
           'quickstart/pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'cnn'),
    Method('KD (ViT teacher)',
           'benchmarks/kd_vit-tiny_resnet18-w4_1xb64_mnist5k.py', 'vit'),
    Method('LFCC',
           'quickstart/lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py', 'vit'),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--quick', action='store_true',
        help='one seed (0) instead of three: a few minutes')
    parser.add_argument(
        '--seeds', type=int, nargs='+',
        help=f'seeds to run (default {list(SEEDS)}; --quick: [0])')
    parser.add_argument(
        '--methods', nargs='+',
        help='run only these methods (names as in the table; the student '
        'alone is always run, it is the reference)')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='training runs at the same time (each gets cores / jobs '
        'threads); default 1')
    parser.add_argument('--out-dir', default='work_dirs/benchmarks/accuracy')
    parser.add_argument(
        '--teacher-dir', default='work_dirs/benchmarks/teachers',
        help='where the teachers are trained once and then reused')
    parser.add_argument(
        '--reuse', action='store_true',
        help='reuse finished student runs found in --out-dir (to resume '
        'an interrupted benchmark) instead of training them again')
    parser.add_argument(
        '--png', help='chart file (default <out-dir>/accuracy_embedded.png)')
    args = parser.parse_args(argv)
    args.seeds = select_seeds(args.quick, args.seeds)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    if args.methods:
        known = [m.name for m in METHODS]
        unknown = [m for m in args.methods if m not in known]
        if unknown:
            parser.error(f'unknown method(s) {unknown}; choose from {known}')
    return args


def select_seeds(quick, seeds=None):
    """The seeds of the protocol: ``seeds`` if given, else seed 0 alone
    with ``quick``, else all of :data:`SEEDS`."""
    return common.select_seeds(quick, seeds, SEEDS)


def select_methods(names=None):
    """The methods to run, in table order; the student alone always."""
    if not names:
        return list(METHODS)
    return [m for m in METHODS if m.name == BASELINE or m.name in names]


def protocol_options(method, seed, teacher_ckpt=None,
                     subset_per_class=SUBSET_PER_CLASS, epochs=EPOCHS):
    """The ``--cfg-options`` that put a method's config on the protocol.

    Args:
        method (Method): The method.
        seed (int): Random seed of the run.
        teacher_ckpt (str, optional): Teacher checkpoint, for a method with
            a teacher.
        subset_per_class (int): Training images per digit.
        epochs (int): Training epochs.

    Returns:
        list[str]: ``key=value`` strings.
    """
    options = [
        f'train_dataloader.dataset.train_subset_per_class={subset_per_class}',
        f'train_cfg.max_epochs={epochs}',
        f'train_cfg.val_interval={epochs}',
        f'param_scheduler.T_max={epochs}',
        f'default_hooks.checkpoint.interval={epochs}',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.logger.interval=10',
        f'randomness.seed={seed}',
    ]
    if method.teacher is not None:
        if teacher_ckpt is None:
            raise ValueError(f'{method.name} needs a teacher checkpoint')
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    if method.name == 'CRD':
        num_samples = NUM_CLASSES * subset_per_class
        negatives = max(1, round(CRD_NEGATIVE_RATIO * num_samples))
        options += [
            f'model.distill_losses.crd.num_samples={num_samples}',
            f'model.distill_losses.crd.num_negatives={negatives}',
        ]
    return options


def summarize(results, methods):
    """Mean, std and gain over the student alone of each method.

    Args:
        results (list[dict]): One ``dict(method, seed, top1)`` per run.
        methods (list[str]): Method names in table order.

    Returns:
        list[dict]: Per method with results: ``method``, ``n``, ``mean``,
        ``std`` (sample standard deviation, None for one seed), ``gain``
        (points over the student alone's mean, None without it) and
        ``top1`` (the per-seed values in seed order).
    """
    by_method = {}
    for run in sorted(results, key=lambda r: r['seed']):
        by_method.setdefault(run['method'], []).append(run['top1'])
    base = by_method.get(BASELINE)
    base_mean = statistics.mean(base) if base else None
    rows = []
    for name in methods:
        values = by_method.get(name)
        if not values:
            continue
        mean = statistics.mean(values)
        rows.append(
            dict(method=name, n=len(values), mean=mean,
                 std=statistics.stdev(values) if len(values) > 1 else None,
                 gain=None if base_mean is None else mean - base_mean,
                 top1=values))
    return rows


def format_gain(gain, name):
    if name == BASELINE or gain is None:
        return '—'
    return f'{gain:+.2f}'


def markdown_table(rows, teachers=None):
    """The summary as a Markdown table.

    Args:
        rows (list[dict]): :func:`summarize` output.
        teachers (dict, optional): Method name to the teacher's label.

    Returns:
        str: The table, one line per method, with a trailing newline.
    """
    teachers = teachers or {}
    lines = [
        '| method | teacher | top-1 (%), mean ± std | gain over student '
        'alone (points) | seeds | top-1 per seed |',
        '|---|---|---|---|---|---|',
    ]
    for row in rows:
        lines.append('| {} | {} | {} | {} | {} | {} |'.format(
            row['method'], teachers.get(row['method'], '—'),
            format_mean_std(row['mean'], row['std']),
            format_gain(row['gain'], row['method']), row['n'],
            ', '.join(f'{v:.2f}' for v in row['top1'])))
    return '\n'.join(lines) + '\n'


def csv_text(rows, teachers=None):
    """The summary as CSV (``std``/``gain`` empty where undefined)."""
    teachers = teachers or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['method', 'teacher', 'seeds', 'mean_top1', 'std_top1',
                     'gain_over_student', 'top1_per_seed'])
    for row in rows:
        writer.writerow([
            row['method'], teachers.get(row['method'], ''), row['n'],
            f'{row["mean"]:.2f}',
            '' if row['std'] is None else f'{row["std"]:.2f}',
            '' if row['gain'] is None or row['method'] == BASELINE else
            f'{row["gain"]:.2f}',
            ';'.join(f'{v:.2f}' for v in row['top1'])
        ])
    return out.getvalue()


def protocol_line(seeds, subset_per_class=SUBSET_PER_CLASS, epochs=EPOCHS):
    return (f'Embedded MNIST: students on {subset_per_class} training '
            f'images per digit ({NUM_CLASSES * subset_per_class} images), '
            f'{epochs} epochs, test on 1,000 images; teachers on the full '
            f'4,000-image training split; seeds {list(seeds)}')


def run_one(method, seed, teacher_ckpt, out_dir, threads, reuse):
    work_dir = osp.abspath(osp.join(out_dir, slug(method.name),
                                    f'seed{seed}'))
    record_file = osp.join(work_dir, 'result.json')
    stamp = teacher_stamp(teacher_ckpt)
    record = None
    if reuse and osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
    if record is not None and record.get('teacher') == stamp:
        print(f'    {method.name} seed {seed}: reusing top-1 '
              f'{record["top1"]:.2f}', flush=True)
        return record
    try:
        top1, seconds, cpu_seconds = train(
            method.config, work_dir,
            protocol_options(method, seed, teacher_ckpt), threads,
            agreement=method.teacher is not None)
    except RuntimeError as err:
        print(f'!! {method.name} seed {seed} FAILED (log: '
              f'{osp.join(work_dir, "train.log")}):\n{str(err)[-800:]}',
              flush=True)
        return dict(method=method.name, seed=seed, top1=None)
    record = dict(method=method.name, seed=seed, top1=top1, seconds=seconds,
                  cpu_seconds=cpu_seconds, teacher=stamp,
                  **last_agreement(work_dir))
    with open(record_file, 'w') as f:
        json.dump(record, f)
    print(f'    {method.name} seed {seed}: top-1 {top1:.2f} '
          f'({seconds:.0f} s, CPU {cpu_seconds:.0f} s)', flush=True)
    return record


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from plots import accuracy_chart

    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    start = time.time()
    methods, missing = [], []
    for method in select_methods(args.methods):
        config_ok = osp.isfile(osp.join(CONFIGS, method.config))
        teacher = next((t for t in TEACHERS if t.key == method.teacher),
                       None)
        teacher_ok = teacher is None or osp.isfile(
            osp.join(CONFIGS, teacher.config))
        (methods if config_ok and teacher_ok else missing).append(method)
    for method in missing:
        print(f'!! {method.name}: config missing ({method.config}); not run',
              flush=True)
    print(protocol_line(args.seeds), flush=True)

    needed = [t for t in TEACHERS if any(m.teacher == t.key for m in methods)]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {
            t.key: pool.submit(ensure_teacher, t, args.teacher_dir, threads)
            for t in needed
        }
        teacher_info = {key: f.result() for key, f in futures.items()}
        jobs = [(m, s) for s in args.seeds for m in methods]
        futures = [
            pool.submit(run_one, m, s,
                        teacher_info[m.teacher][0] if m.teacher else None,
                        args.out_dir, threads, args.reuse) for m, s in jobs
        ]
        runs = [f.result() for f in futures]
    results = [r for r in runs if r['top1'] is not None]
    failed = [r for r in runs if r['top1'] is None]

    labels = {t.key: f'{t.label}, {teacher_info[t.key][1]:.2f}'
              for t in needed}
    teachers = {m.name: labels[m.teacher] for m in methods if m.teacher}
    rows = summarize(results, [m.name for m in methods])
    table = markdown_table(rows, teachers)
    os.makedirs(args.out_dir, exist_ok=True)
    stem = osp.join(args.out_dir, 'accuracy_embedded')
    agreement = agreement_table(results, [m.name for m in methods])
    with open(stem + '.md', 'w') as f:
        f.write(protocol_line(args.seeds) + '\n\n' + table +
                (f'\nAgreement with the teacher on the test split:\n\n'
                 f'{agreement}' if agreement else ''))
    with open(stem + '.csv', 'w') as f:
        f.write(csv_text(rows, teachers))
    with open(stem + '_runs.json', 'w') as f:
        json.dump(results, f, indent=1)
    png = args.png or stem + '.png'
    accuracy_chart(
        [r['method'] for r in rows], [r['mean'] for r in rows],
        [r['std'] for r in rows], png,
        title=f'Embedded MNIST, {SUBSET_PER_CLASS} images/digit, '
        f'ResNet-18 w4 student, mean ± std over {len(args.seeds)} '
        f'seed(s)', baseline=BASELINE)
    total = time.time() - start
    print()
    print(table)
    if agreement:
        print(agreement)
    for method in missing:
        print(f'{method.name}: not run (config {method.config} missing)')
    for run in failed:
        print(f'{run["method"]} seed {run["seed"]}: FAILED (see its '
              'train.log)')
    cpu = sum(r.get('cpu_seconds', 0.) for r in results)
    print(f'Wrote {stem}.md, {stem}.csv, {png}; {len(results)} runs in '
          f'{total / 60:.1f} min with --jobs {args.jobs} '
          f'({threads} thread(s) each), {cpu / 60:.1f} CPU-minutes in the '
          'student runs')


if __name__ == '__main__':
    main()
