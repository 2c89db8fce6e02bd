"""Top-1 of every distillation method on CIFAR-10 (the JPEG copy), on a
CPU: mean ± std over seeds, gain over the student alone and over KD, a
Markdown table, a CSV file and a bar chart with error bars.

Protocol (fixed; the configs in ``configs/benchmarks/`` carry it, this
script only adds the seed, the teacher checkpoint and run bookkeeping):

- Data: ``data/cifar10-jpeg`` (one JPEG per image, a folder per class).
  Every student trains on the first ``PER_CLASS`` = 500 images of each
  class in file order (5,000 images, ``PerClassSubset``) with random crop
  32 (padding 4) and horizontal flip, and is tested on all 10,000 test
  images. The reported top-1 is the one after the last epoch; no epoch is
  picked on the test set.
- Teacher: resnet20 (272 k parameters) trained once on all 50,000 training
  images for 3 epochs (seed 0), cached under ``<teacher-dir>/resnet20`` and
  reused while its resolved config is unchanged.
- Students: resnet8 (78 k parameters) for KD, CRD, CRD+KD, MSDCRD and
  PCKD; a tiny ViT (4x4 patches, 96-d, 4 blocks, 312 k parameters) for
  LFCC, which is meant for teacher/student pairs of different architecture
  families: CNN teacher, ViT student. That student alone and KD into it
  are run as LFCC's own references.
- Schedule, the same for every row: AdamW (lr 2e-3, weight decay 0.05),
  batch 64, 100 warm-up iterations, cosine decay over ``EPOCHS`` = 10
  epochs (790 iterations).
- Seeds 0, 1, 2 (``randomness.seed``: initialisation, data order,
  augmentation). ``--quick`` runs seed 0 only. Runs go seed-major, so an
  interrupted benchmark still has whole seeds; finished runs are reused
  when the script is started again (``--no-reuse`` retrains them).

    python benchmarks/accuracy_cifar10.py [--quick] [--jobs 2]

Outputs (under ``--out-dir``, default ``benchmarks/results/cifar10``):
``accuracy_cifar10.md``, ``.csv``, ``.png``, ``_runs.json`` (rewritten
after every finished run), ``progress.log`` and one work dir per run.
"""
import argparse
import csv
import io
import json
import os
import os.path as osp
import statistics
import sys
import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy_common as common  # noqa: E402

SEEDS = (0, 1, 2)
DATA_ROOT = 'data/cifar10-jpeg'
NUM_CLASSES = 10
PER_CLASS = 500
EPOCHS = 10
TEACHER_EPOCHS = 3
# CRD's negatives per bank row, as in the paper's CIFAR-100 runs.
CRD_NEGATIVE_RATIO = 16384 / 50000

Teacher = namedtuple('Teacher', 'key label config')
# reference: the row of the same student trained alone; kd: the KD row of
# the same teacher and student; cost: relative CPU cost (student alone =
# 1), measured once, only used for the ETA.
Method = namedtuple('Method', 'name config teacher student reference kd cost')

TEACHERS = [
    Teacher('resnet20', 'resnet20 (CNN)',
            'benchmarks/resnet20_1xb64_cifar10-jpeg.py'),
]
BASELINE = 'student alone'
VIT_BASELINE = 'ViT student alone'
_R8 = 'resnet8'
_VIT = 'tiny ViT'
_SUFFIX = '1xb64_cifar10-jpeg-500pc.py'
METHODS = [
    Method(BASELINE, f'benchmarks/student_resnet8_{_SUFFIX}', None, _R8,
           None, None, 1.0),
    Method('KD', f'benchmarks/kd_resnet20_resnet8_{_SUFFIX}', 'resnet20',
           _R8, BASELINE, None, 1.6),
    Method('CRD', f'benchmarks/crd_resnet20_resnet8_{_SUFFIX}', 'resnet20',
           _R8, BASELINE, 'KD', 1.7),
    Method('CRD+KD', f'benchmarks/crd+kd_resnet20_resnet8_{_SUFFIX}',
           'resnet20', _R8, BASELINE, 'KD', 1.7),
    Method('MSDCRD', f'benchmarks/msdcrd_resnet20_resnet8_{_SUFFIX}',
           'resnet20', _R8, BASELINE, 'KD', 1.7),
    Method('PCKD', f'benchmarks/pckd_resnet20_resnet8_{_SUFFIX}',
           'resnet20', _R8, BASELINE, 'KD', 6.0),
    Method(VIT_BASELINE, f'benchmarks/student_vit-tiny-p4_{_SUFFIX}', None,
           _VIT, None, None, 1.5),
    Method('KD (ViT student)',
           f'benchmarks/kd_resnet20_vit-tiny-p4_{_SUFFIX}', 'resnet20',
           _VIT, VIT_BASELINE, None, 2.1),
    Method('LFCC (ViT student)',
           f'benchmarks/lfcc_resnet20_vit-tiny-p4_{_SUFFIX}', 'resnet20',
           _VIT, VIT_BASELINE, 'KD (ViT student)', 2.3),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='one seed (0) instead of three')
    parser.add_argument(
        '--seeds', type=int, nargs='+',
        help=f'seeds to run (default {list(SEEDS)}; --quick: [0])')
    parser.add_argument(
        '--methods', nargs='+',
        help='run only these rows (names as in the table); the rows they '
        'are compared with (student alone, KD) are added')
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='training runs at the same time (each gets cores / jobs '
        'threads); default 1')
    parser.add_argument('--data-root', default=DATA_ROOT,
                        help=f'the unpacked JPEG copy (default {DATA_ROOT})')
    parser.add_argument('--out-dir', default='benchmarks/results/cifar10')
    parser.add_argument(
        '--teacher-dir', default=None,
        help='where teachers are trained once and reused (default '
        '<out-dir>/teachers)')
    parser.add_argument(
        '--no-reuse', action='store_true',
        help='retrain finished runs found in --out-dir instead of reusing '
        'them')
    parser.add_argument('--png', help='chart file (default '
                        '<out-dir>/accuracy_cifar10.png)')
    smaller = parser.add_argument_group(
        'a smaller protocol (tests, trials; figures from it are not the '
        "benchmark's)")
    smaller.add_argument('--per-class', type=int,
                         help=f'training images per class (default '
                         f'{PER_CLASS})')
    smaller.add_argument('--epochs', type=int,
                         help=f'student epochs (default {EPOCHS})')
    smaller.add_argument('--teacher-epochs', type=int,
                         help=f'teacher epochs (default {TEACHER_EPOCHS})')
    args = parser.parse_args(argv)
    args.seeds = common.select_seeds(args.quick, args.seeds, SEEDS)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    for name in ('per_class', 'epochs', 'teacher_epochs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, '
                         f'got {value}')
    if args.methods:
        known = [m.name for m in METHODS]
        unknown = [m for m in args.methods if m not in known]
        if unknown:
            parser.error(f'unknown method(s) {unknown}; choose from {known}')
    if args.teacher_dir is None:
        args.teacher_dir = osp.join(args.out_dir, 'teachers')
    return args


def missing_data(data_root):
    """Why ``data_root`` cannot be used (None if it can): the JPEG copy
    must have its ``train`` and ``test`` folders of class folders."""
    for split in ('train', 'test'):
        path = osp.join(data_root, split)
        if not osp.isdir(path) or not os.listdir(path):
            return (
                f'CIFAR-10 JPEG data not found: {path} is missing or empty. '
                'Unpack the archive cifar10-jpeg.tar.gz so that '
                f'{data_root}/{{train,test}}/<class>/*.jpg exist, e.g. '
                '`mkdir -p data && tar -xzf cifar10-jpeg.tar.gz -C data` '
                '(README.md, "CIFAR-10 data").')
    return None


def select_methods(names=None):
    """The rows to run, in table order: ``names`` plus the rows they are
    compared with (their student alone and their KD row)."""
    if not names:
        return list(METHODS)
    wanted = set(names)
    for method in METHODS:
        if method.name in names:
            wanted.update(n for n in (method.reference, method.kd) if n)
    return [m for m in METHODS if m.name in wanted]


def teacher_options(data_root=DATA_ROOT, epochs=None):
    """The ``--cfg-options`` of a teacher's run."""
    options = ['train_dataloader.num_workers=0',
               'val_dataloader.num_workers=0',
               'test_dataloader.num_workers=0']
    if data_root != DATA_ROOT:
        options += [f'train_dataloader.dataset.data_root={data_root}',
                    f'val_dataloader.dataset.data_root={data_root}',
                    f'test_dataloader.dataset.data_root={data_root}']
    if epochs is not None:
        options += epoch_options(epochs)
    return options


def epoch_options(epochs, cosine=1):
    """Options for ``epochs`` epochs; ``cosine`` is the index of the
    cosine scheduler in ``param_scheduler``."""
    return [f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={epochs}',
            f'param_scheduler.{cosine}.T_max={epochs}',
            f'default_hooks.checkpoint.interval={epochs}']


def protocol_options(method, seed, teacher_ckpt=None, data_root=DATA_ROOT,
                     per_class=None, epochs=None, default_epochs=EPOCHS,
                     cosine=1):
    """The ``--cfg-options`` of one row's run.

    Args:
        method (Method): The row.
        seed (int): Random seed of the run.
        teacher_ckpt (str, optional): Teacher checkpoint, for a row with a
            teacher.
        data_root (str): The unpacked JPEG copy.
        per_class (int, optional): Training images per class, if not the
            protocol's (CRD's banks and negatives follow it).
        epochs (int, optional): Epochs, if not the protocol's.
        default_epochs (int): The protocol's epochs (another protocol that
            shares this one's options gives its own).
        cosine (int): Index of the cosine scheduler in ``param_scheduler``.

    Returns:
        list[str]: ``key=value`` strings.
    """
    options = [
        f'randomness.seed={seed}',
        'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        f'default_hooks.checkpoint.interval={epochs or default_epochs}',
        'default_hooks.checkpoint.save_best=None',
        'default_hooks.checkpoint.max_keep_ckpts=1',
        'default_hooks.logger.interval=20',
    ]
    if method.teacher is not None:
        if teacher_ckpt is None:
            raise ValueError(f'{method.name} needs a teacher checkpoint')
        options.append(f'model.teacher_ckpt={teacher_ckpt}')
    if data_root != DATA_ROOT:
        options += [
            f'train_dataloader.dataset.dataset.data_root={data_root}',
            f'val_dataloader.dataset.data_root={data_root}',
            f'test_dataloader.dataset.data_root={data_root}'
        ]
    if per_class is not None:
        options.append(f'train_dataloader.dataset.num_per_class={per_class}')
        if method.name.startswith('CRD'):
            num_samples = NUM_CLASSES * per_class
            negatives = min(num_samples - per_class,
                            max(1, round(CRD_NEGATIVE_RATIO * num_samples)))
            options += [
                f'model.distill_losses.crd.num_samples={num_samples}',
                f'model.distill_losses.crd.num_negatives={negatives}',
            ]
    if epochs is not None:
        options += epoch_options(epochs, cosine)
    return options


def summarize(results, methods):
    """Mean, std and gains of each row.

    Args:
        results (list[dict]): One ``dict(method, seed, top1)`` per run.
        methods (list[Method]): The rows, in table order.

    Returns:
        list[dict]: Per row with results: ``method``, ``n``, ``mean``,
        ``std`` (sample std, None for one seed), ``gain`` (points over
        the mean of the row's student alone), ``gain_kd`` (points over the
        mean of its KD row), each None where undefined, and ``top1`` (the
        per-seed values in seed order).
    """
    by_method = {}
    for run in sorted(results, key=lambda r: r['seed']):
        by_method.setdefault(run['method'], []).append(run['top1'])
    means = {k: statistics.mean(v) for k, v in by_method.items()}
    rows = []
    for method in methods:
        values = by_method.get(method.name)
        if not values:
            continue
        mean = means[method.name]
        rows.append(dict(
            method=method.name, n=len(values), mean=mean,
            std=statistics.stdev(values) if len(values) > 1 else None,
            gain=(mean - means[method.reference]
                  if method.reference in means else None),
            gain_kd=mean - means[method.kd] if method.kd in means else None,
            top1=values))
    return rows


def format_gain(gain):
    return '—' if gain is None else f'{gain:+.2f}'


def markdown_table(rows, methods, teachers=None):
    """The summary as a Markdown table.

    Args:
        rows (list[dict]): :func:`summarize` output.
        methods (list[Method]): The rows (for each one's student).
        teachers (dict, optional): Row name to its teacher's label.

    Returns:
        str: The table, one line per row, with a trailing newline.
    """
    teachers = teachers or {}
    students = {m.name: m.student for m in methods}
    lines = [
        '| method | student | teacher | top-1 (%), mean ± std | gain over '
        'student alone | gain over KD | seeds | top-1 per seed |',
        '|---|---|---|---|---|---|---|---|',
    ]
    for row in rows:
        lines.append('| {} | {} | {} | {} | {} | {} | {} | {} |'.format(
            row['method'], students.get(row['method'], ''),
            teachers.get(row['method'], '—'),
            common.format_mean_std(row['mean'], row['std']),
            format_gain(row['gain']), format_gain(row['gain_kd']), row['n'],
            ', '.join(f'{v:.2f}' for v in row['top1'])))
    return '\n'.join(lines) + '\n'


def csv_text(rows, methods, teachers=None):
    """The summary as CSV (empty cells where a value is undefined)."""
    teachers = teachers or {}
    students = {m.name: m.student for m in methods}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['method', 'student', 'teacher', 'seeds', 'mean_top1',
                     'std_top1', 'gain_over_student', 'gain_over_kd',
                     'top1_per_seed'])
    for row in rows:
        writer.writerow([
            row['method'], students.get(row['method'], ''),
            teachers.get(row['method'], ''), row['n'], f'{row["mean"]:.2f}',
            '' if row['std'] is None else f'{row["std"]:.2f}',
            '' if row['gain'] is None else f'{row["gain"]:.2f}',
            '' if row['gain_kd'] is None else f'{row["gain_kd"]:.2f}',
            ';'.join(f'{v:.2f}' for v in row['top1'])
        ])
    return out.getvalue()


def protocol_line(seeds, per_class=None, epochs=None):
    per_class = per_class or PER_CLASS
    epochs = epochs or EPOCHS
    departs = (per_class != PER_CLASS or epochs != EPOCHS)
    return (f'CIFAR-10 (JPEG copy): students on {per_class} training images '
            f'per class ({NUM_CLASSES * per_class} images), {epochs} '
            'epochs, tested on every test image; teacher on the whole '
            f'training split; seeds {list(seeds)}' +
            (' [NOT the fixed protocol]' if departs else ''))


class Progress:
    """Progress lines (to stdout and ``progress.log``) with an ETA from
    the relative cost of the finished and remaining runs."""

    def __init__(self, jobs, log_file):
        self.total = len(jobs)
        self.remaining_cost = sum(m.cost for m, _ in jobs)
        self.done_cost = 0.
        self.done = 0
        self.start = time.time()
        self.log_file = log_file
        self.lock = threading.Lock()

    def say(self, text):
        with self.lock:
            print(text, flush=True)
            with open(self.log_file, 'a') as f:
                f.write(text + '\n')

    def started(self, method, seed):
        self.say(f'[{self.done}/{self.total} done] start {method.name} '
                 f'seed {seed}  (elapsed {self.elapsed() / 60:.1f} min)')

    def finished(self, method, seed, record, reused):
        with self.lock:
            self.done += 1
            self.remaining_cost -= method.cost
            if not reused:
                self.done_cost += method.cost
            elapsed = self.elapsed()
            eta = (elapsed * self.remaining_cost / self.done_cost
                   if self.done_cost else None)
        top1 = record['top1']
        what = ('FAILED' if top1 is None else
                f'top-1 {top1:.2f}' + (' (reused)' if reused else
                                       f' in {record["seconds"] / 60:.1f} '
                                       'min'))
        eta_text = ('ETA unknown' if eta is None else
                    f'ETA {eta / 60:.0f} min (about ' + time.strftime(
                        '%H:%M UTC', time.gmtime(time.time() + eta)) + ')')
        self.say(f'[{self.done}/{self.total} done] {method.name} seed '
                 f'{seed}: {what} | elapsed {elapsed / 60:.1f} min, '
                 f'{eta_text}')

    def elapsed(self):
        return time.time() - self.start


def run_one(method, seed, teacher_ckpt, args, threads, progress):
    """Train one row with one seed, or reuse its finished run."""
    work_dir = osp.abspath(osp.join(args.out_dir, common.slug(method.name),
                                    f'seed{seed}'))
    record_file = osp.join(work_dir, 'result.json')
    options = protocol_options(method, seed, teacher_ckpt, args.data_root,
                               args.per_class, args.epochs)
    stamp = dict(teacher=common.teacher_stamp(teacher_ckpt),
                 config_sha1=common.config_digest(method.config),
                 options=options)
    if not args.no_reuse and osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
        if all(record.get(k) == v for k, v in stamp.items()):
            progress.finished(method, seed, record, reused=True)
            return record
    progress.started(method, seed)
    try:
        top1, seconds, cpu_seconds = common.train(
            method.config, work_dir, options, threads,
            agreement=method.teacher is not None)
    except RuntimeError as err:
        progress.say(f'!! {method.name} seed {seed} FAILED (log: '
                     f'{osp.join(work_dir, "train.log")}):\n'
                     f'{str(err)[-800:]}')
        record = dict(method=method.name, seed=seed, top1=None)
        progress.finished(method, seed, record, reused=False)
        return record
    record = dict(method=method.name, seed=seed, top1=top1, seconds=seconds,
                  cpu_seconds=cpu_seconds, **common.last_agreement(work_dir),
                  **stamp)
    with open(record_file, 'w') as f:
        json.dump(record, f)
    progress.finished(method, seed, record, reused=False)
    return record


def write_outputs(results, methods, teachers, args, png):
    """Write the table (with the teacher agreement of the rows that logged
    it), CSV, runs and chart of the results so far; return the tables."""
    from plots import accuracy_chart
    rows = summarize(results, methods)
    table = markdown_table(rows, methods, teachers)
    stem = osp.join(args.out_dir, 'accuracy_cifar10')
    line = protocol_line(args.seeds, args.per_class, args.epochs)
    agreement = common.agreement_table(results, [m.name for m in methods])
    if agreement:
        table += ('\nAgreement with the teacher on the test split:\n\n' +
                  agreement)
    with open(stem + '.md', 'w') as f:
        f.write(line + '\n\n' + table)
    with open(stem + '.csv', 'w') as f:
        f.write(csv_text(rows, methods, teachers))
    with open(stem + '_runs.json', 'w') as f:
        json.dump(results, f, indent=1)
    if rows:
        accuracy_chart(
            [r['method'] for r in rows], [r['mean'] for r in rows],
            [r['std'] for r in rows], png,
            title=f'CIFAR-10 (JPEG), {args.per_class or PER_CLASS} '
            'images/class, resnet8 and tiny-ViT students, mean ± std over '
            f'{len(args.seeds)} seed(s)', baseline=BASELINE)
    return table


def main(argv=None):
    args = parse_args(argv)
    problem = missing_data(args.data_root)
    if problem:
        sys.exit(problem)
    os.makedirs(args.out_dir, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    methods = select_methods(args.methods)
    jobs = [(m, s) for s in args.seeds for m in methods]
    progress = Progress(jobs, osp.join(args.out_dir, 'progress.log'))
    progress.say(f'{time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}'
                 f'  {protocol_line(args.seeds, args.per_class, args.epochs)}'
                 f'; {len(jobs)} runs, --jobs {args.jobs} ({threads} '
                 'thread(s) each)')
    png = args.png or osp.join(args.out_dir, 'accuracy_cifar10.png')

    needed = [t for t in TEACHERS if any(m.teacher == t.key for m in methods)]
    teacher_info = {}
    for teacher in needed:
        teacher_info[teacher.key] = common.ensure_teacher(
            teacher, args.teacher_dir, threads,
            options=teacher_options(args.data_root, args.teacher_epochs))
        progress.say(f'teacher {teacher.label}: top-1 '
                     f'{teacher_info[teacher.key][1]:.2f}')
    labels = {t.key: f'{t.label}, {teacher_info[t.key][1]:.2f}'
              for t in needed}
    teachers = {m.name: labels[m.teacher] for m in methods if m.teacher}

    results = []
    lock = threading.Lock()

    def job(method, seed):
        ckpt = teacher_info[method.teacher][0] if method.teacher else None
        record = run_one(method, seed, ckpt, args, threads, progress)
        if record['top1'] is not None:
            with lock:
                results.append(record)
                write_outputs(list(results), methods, teachers, args, png)
        return record

    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(job, m, s) for m, s in jobs]
        runs = [f.result() for f in futures]
    failed = [r for r in runs if r['top1'] is None]
    table = write_outputs(results, methods, teachers, args, png)
    print()
    print(table)
    for run in failed:
        print(f'{run["method"]} seed {run["seed"]}: FAILED (see its '
              'train.log)')
    cpu = sum(r.get('cpu_seconds', 0.) for r in results)
    stem = osp.join(args.out_dir, 'accuracy_cifar10')
    progress.say(f'Wrote {stem}.md, .csv, {png}; {len(results)} runs in '
                 f'{progress.elapsed() / 60:.1f} min with --jobs '
                 f'{args.jobs}, {cpu / 60:.1f} CPU-minutes in the runs '
                 '(reused runs count their first CPU time)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
