"""Top-1 of every distillation method on CIFAR-10 (the JPEG copy) in the
papers' regime: a strong published teacher and the papers' SGD recipe.

Protocol (fixed before any run; the configs
``configs/benchmarks/*_sgd-6e_1xb64_cifar10-jpeg-1000pc.py`` carry it,
this script adds the seed, the teacher checkpoint and run bookkeeping):

- Teacher: the published CIFAR-10 resnet56 ("option A" shortcuts, 93.62 %
  on the original test images), converted with
  ``tools/model_converters/cifar10_resnet_to_mmkd.py`` and fine-tuned for
  one epoch on all 50,000 JPEG training images
  (``configs/teachers/resnet56_cifar10-pre_ft-1e_1xb64_cifar10-jpeg.py``).
  It is given with ``--teacher-ckpt``; its top-1 on the 10,000 test images
  is measured once with ``tools/test.py`` and cached.
- Data: every student trains on the first ``PER_CLASS`` = 1,000 images of
  each class (10,000 images) with random crop 32 (padding 4) and
  horizontal flip, ImageNet mean/std normalisation (the teacher's), and is
  tested on all 10,000 test images after the last epoch.
- Students from scratch: resnet8 for KD, CRD, CRD+KD, MSDCRD and PCKD
  (released objective); the tiny ViT for LFCC with its own references.
- Schedule: SGD, momentum 0.9, weight decay 5e-4, batch 64, lr 0.05 (0.01
  for the three ViT rows), cosine decay to 0 over ``EPOCHS`` = 6 epochs
  (942 iterations); KD temperature 4. Sized so that ``--quick --jobs 2``
  fits 40 minutes and the 3 seeds 150 minutes on an idle 2-core machine
  (docs/benchmarks.md, "How the protocol was sized").
- Seeds 0, 1, 2; ``--quick`` runs seed 0. Runs go seed-major; each
  (row, seed) result is written to ``<out-dir>/<row>/seed<N>/result.json``
  as it finishes and reused when the script is started again with the
  same config, options and teacher (``--no-reuse`` retrains).

    python benchmarks/accuracy_cifar10_sgd.py --jobs 2 [--quick]

Outputs under ``--out-dir`` (default ``benchmarks/results/cifar10_sgd``):
``accuracy_cifar10_sgd.md/.csv/.png/_runs.json``, ``progress.log``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy_cifar10 as earlier  # noqa: E402
import accuracy_common as common  # noqa: E402

SEEDS = (0, 1, 2)
DATA_ROOT = earlier.DATA_ROOT
NUM_CLASSES = 10
PER_CLASS = 1000
EPOCHS = 6
TEACHER_CKPT = 'work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth'
TEACHER_CONFIG = 'teachers/resnet56_cifar10-pre_1xb64_cifar10-jpeg.py'
TEACHER_LABEL = 'resnet56 (published, JPEG-fine-tuned)'
Method = earlier.Method

BASELINE = earlier.BASELINE
VIT_BASELINE = earlier.VIT_BASELINE
_R8 = 'resnet8'
_VIT = 'tiny ViT'
_SUFFIX = 'sgd-6e_1xb64_cifar10-jpeg-1000pc.py'
_T = 'resnet56'
# cost: CPU time of one training iteration (data loading included)
# relative to the student alone, measured with one thread on the real
# configs and data (docs/benchmarks.md); only used for the ETA.
METHODS = [
    Method(BASELINE, f'benchmarks/student_resnet8_{_SUFFIX}', None, _R8,
           None, None, 1.0),
    Method('KD', f'benchmarks/kd_resnet56_resnet8_{_SUFFIX}', _T, _R8,
           BASELINE, None, 2.6),
    Method('CRD', f'benchmarks/crd_resnet56_resnet8_{_SUFFIX}', _T, _R8,
           BASELINE, 'KD', 2.9),
    Method('CRD+KD', f'benchmarks/crd+kd_resnet56_resnet8_{_SUFFIX}', _T,
           _R8, BASELINE, 'KD', 2.9),
    Method('MSDCRD', f'benchmarks/msdcrd_resnet56_resnet8_{_SUFFIX}', _T,
           _R8, BASELINE, 'KD', 2.7),
    Method('PCKD', f'benchmarks/pckd_resnet56_resnet8_{_SUFFIX}', _T, _R8,
           BASELINE, 'KD', 10.8),
    Method(VIT_BASELINE, f'benchmarks/student_vit-tiny-p4_{_SUFFIX}', None,
           _VIT, None, None, 1.5),
    Method('KD (ViT student)',
           f'benchmarks/kd_resnet56_vit-tiny-p4_{_SUFFIX}', _T, _VIT,
           VIT_BASELINE, None, 3.2),
    Method('LFCC (ViT student)',
           f'benchmarks/lfcc_resnet56_vit-tiny-p4_{_SUFFIX}', _T, _VIT,
           VIT_BASELINE, 'KD (ViT student)', 3.7),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
                        help='one seed (0) instead of three')
    parser.add_argument('--seeds', type=int, nargs='+', help='seeds to '
                        f'run (default {list(SEEDS)}; --quick: [0])')
    parser.add_argument(
        '--methods', nargs='+',
        help='run only these rows (names as in the table); the rows they '
        'are compared with are added')
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings at the same time (each gets cores '
                        '/ jobs threads); default 1')
    parser.add_argument('--data-root', default=DATA_ROOT,
                        help=f'the unpacked JPEG copy (default {DATA_ROOT})')
    parser.add_argument('--teacher-ckpt', default=TEACHER_CKPT,
                        help='the fine-tuned converted resnet56 (default '
                        f'{TEACHER_CKPT})')
    parser.add_argument('--out-dir', default='benchmarks/results/cifar10_sgd')
    parser.add_argument('--no-reuse', action='store_true',
                        help='retrain finished runs instead of reusing '
                        'them')
    smaller = parser.add_argument_group(
        'a smaller protocol (tests, timing trials; figures from it are not '
        "the benchmark's)")
    smaller.add_argument('--per-class', type=int,
                         help=f'training images per class (default '
                         f'{PER_CLASS})')
    smaller.add_argument('--epochs', type=int,
                         help=f'student epochs (default {EPOCHS})')
    args = parser.parse_args(argv)
    args.seeds = common.select_seeds(args.quick, args.seeds, SEEDS)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    for name in ('per_class', 'epochs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, '
                         f'got {value}')
    if args.methods:
        known = [m.name for m in METHODS]
        unknown = [m for m in args.methods if m not in known]
        if unknown:
            parser.error(f'unknown method(s) {unknown}; choose from {known}')
    return args


def select_methods(names=None):
    """The rows to run, in table order, with the rows they compare to."""
    if not names:
        return list(METHODS)
    wanted = set(names)
    for method in METHODS:
        if method.name in names:
            wanted.update(n for n in (method.reference, method.kd) if n)
    return [m for m in METHODS if m.name in wanted]


def protocol_options(method, seed, teacher_ckpt=None, data_root=DATA_ROOT,
                     per_class=None, epochs=None):
    """The ``--cfg-options`` of one row's run: those of the earlier protocol
    with this one's epochs and its only scheduler (cosine, index 0);
    ``per_class`` / ``epochs`` only for a smaller trial protocol.

    The distiller rows run in channels-last memory format, the fastest
    mode for these runs on a CPU that gives the eager first-iteration
    losses (within 1e-4,
    ``tests/test_models/test_distillers/test_channels_last.py``); with one
    thread per job, compiling costs more than it saves in a 6-epoch run
    (``docs/benchmarks.md``). A student alone is a plain mmpretrain
    classifier, which has no such option."""
    options = earlier.protocol_options(
        method, seed, teacher_ckpt, data_root, per_class, epochs,
        default_epochs=EPOCHS, cosine=0)
    if method.teacher is not None:
        options.append('model.channels_last=True')
    return options


def protocol_line(seeds, per_class=None, epochs=None):
    per_class = per_class or PER_CLASS
    epochs = epochs or EPOCHS
    departs = per_class != PER_CLASS or epochs != EPOCHS
    return (f'CIFAR-10 (JPEG copy), SGD protocol: students from scratch on '
            f'{per_class} training images per class, {epochs} epochs, '
            f'tested on every test image; teacher {TEACHER_LABEL}; seeds '
            f'{list(seeds)}' + (' [NOT the fixed protocol]' if departs
                                else ''))


def teacher_top1(args, threads):
    """Top-1 of the teacher checkpoint on the test split, measured once
    with ``tools/test.py`` and cached beside the results."""
    if not osp.isfile(args.teacher_ckpt):
        sys.exit(f'teacher checkpoint not found: {args.teacher_ckpt}. '
                 'Convert the published resnet56 and fine-tune it first '
                 '(docs/cifar10_teachers.md).')
    stamp = common.teacher_stamp(args.teacher_ckpt)
    record_file = osp.join(args.out_dir, 'teacher.json')
    if not args.no_reuse and osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
        if record.get('teacher') == stamp:
            return record['top1']
    work_dir = osp.join(args.out_dir, 'teacher_test')
    metrics = osp.join(work_dir, 'metrics.json')
    os.makedirs(work_dir, exist_ok=True)
    options = ['test_dataloader.num_workers=0']
    if args.data_root != DATA_ROOT:
        options.append(f'test_dataloader.dataset.data_root={args.data_root}')
    cmd = [sys.executable, osp.join(common.ROOT, 'tools', 'test.py'),
           osp.join(common.CONFIGS, TEACHER_CONFIG), args.teacher_ckpt,
           '--work-dir', work_dir, '--metrics-out', metrics,
           '--cfg-options', *options]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    with open(osp.join(work_dir, 'test.log'), 'w') as log:
        subprocess.run(cmd, cwd=common.ROOT, env=env, stdout=log,
                       stderr=subprocess.STDOUT, check=True)
    with open(metrics) as f:
        top1 = json.load(f)['accuracy/top1']
    with open(record_file, 'w') as f:
        json.dump(dict(teacher=stamp, top1=top1), f)
    return top1


def run_one(method, seed, args, threads, progress):
    """Train one row with one seed, or reuse its cached result."""
    work_dir = osp.abspath(osp.join(args.out_dir, common.slug(method.name),
                                    f'seed{seed}'))
    record_file = osp.join(work_dir, 'result.json')
    ckpt = args.teacher_ckpt if method.teacher else None
    options = protocol_options(method, seed, ckpt, args.data_root,
                               args.per_class, args.epochs)
    stamp = dict(teacher=common.teacher_stamp(ckpt),
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
        top1, seconds, cpu_seconds = common.train(method.config, work_dir,
                                                  options, threads)
    except RuntimeError as err:
        progress.say(f'!! {method.name} seed {seed} FAILED (log: '
                     f'{osp.join(work_dir, "train.log")}):\n'
                     f'{str(err)[-800:]}')
        record = dict(method=method.name, seed=seed, top1=None)
        progress.finished(method, seed, record, reused=False)
        return record
    record = dict(method=method.name, seed=seed, top1=top1, seconds=seconds,
                  cpu_seconds=cpu_seconds, **stamp)
    with open(record_file, 'w') as f:
        json.dump(record, f)
    progress.finished(method, seed, record, reused=False)
    return record


def crd_gains(rows):
    """Points over the CRD row's mean for each distiller row of the resnet8
    student (None elsewhere, or while CRD has no result)."""
    means = {r['method']: r['mean'] for r in rows}
    cnn = {m.name for m in METHODS if m.student == _R8 and m.teacher}
    return {r['method']: (r['mean'] - means['CRD'] if 'CRD' in means and
                          r['method'] in cnn - {'CRD'} else None)
            for r in rows}


def with_crd_column(table, csv_text, rows):
    """Add the "gain over CRD" column after "gain over KD" to the Markdown
    table and the CSV."""
    gains = [earlier.format_gain(g) for g in crd_gains(rows).values()]
    lines = table.rstrip('\n').split('\n')
    cells = [line.split(' | ') for line in lines]
    cells[0].insert(6, 'gain over CRD')
    for row, gain in zip(cells[2:], gains):
        row.insert(6, gain)
    table = '\n'.join(' | '.join(c) for c in cells[:1]) + '\n' + \
        '|---' * 9 + '|\n' + '\n'.join(' | '.join(c) for c in cells[2:])
    csv_lines = csv_text.rstrip('\n').split('\n')
    out = [csv_lines[0].replace('gain_over_kd,',
                                'gain_over_kd,gain_over_crd,')]
    for line, gain in zip(csv_lines[1:], crd_gains(rows).values()):
        head, _, tail = line.rpartition(',')  # top1_per_seed is last
        out.append(f'{head},{"" if gain is None else f"{gain:.2f}"},{tail}')
    return table + '\n', '\n'.join(out) + '\n'


def write_outputs(results, methods, teachers, args):
    """Write the table, CSV, runs and chart of the results so far."""
    from plots import accuracy_chart
    rows = earlier.summarize(results, methods)
    table, csv_text = with_crd_column(
        earlier.markdown_table(rows, methods, teachers),
        earlier.csv_text(rows, methods, teachers), rows)
    stem = osp.join(args.out_dir, 'accuracy_cifar10_sgd')
    with open(stem + '.md', 'w') as f:
        f.write(protocol_line(args.seeds, args.per_class, args.epochs) +
                '\n\n' + table)
    with open(stem + '.csv', 'w') as f:
        f.write(csv_text)
    with open(stem + '_runs.json', 'w') as f:
        json.dump(results, f, indent=1)
    if rows:
        accuracy_chart(
            [r['method'] for r in rows], [r['mean'] for r in rows],
            [r['std'] for r in rows], stem + '.png',
            title=f'CIFAR-10 (JPEG), SGD, resnet56 teacher, '
            f'{args.per_class or PER_CLASS} images/class, mean ± std over '
            f'{len(args.seeds)} seed(s)', baseline=BASELINE)
    return table


def main(argv=None):
    args = parse_args(argv)
    problem = earlier.missing_data(args.data_root)
    if problem:
        sys.exit(problem)
    os.makedirs(args.out_dir, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    methods = select_methods(args.methods)
    jobs = [(m, s) for s in args.seeds for m in methods]
    progress = earlier.Progress(jobs, osp.join(args.out_dir, 'progress.log'))
    progress.say(f'{time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}'
                 f'  {protocol_line(args.seeds, args.per_class, args.epochs)}'
                 f'; {len(jobs)} runs, --jobs {args.jobs} ({threads} '
                 'thread(s) each)')
    teachers = {}
    if any(m.teacher for m in methods):
        top1 = teacher_top1(args, threads)
        label = f'resnet56 ({osp.basename(args.teacher_ckpt)})'
        progress.say(f'teacher {label}: top-1 {top1:.2f}')
        teachers = {m.name: f'{label}, {top1:.2f}'
                    for m in methods if m.teacher}

    results = []
    lock = threading.Lock()

    def job(method, seed):
        record = run_one(method, seed, args, threads, progress)
        if record['top1'] is not None:
            with lock:
                results.append(record)
                write_outputs(list(results), methods, teachers, args)
        return record

    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda j: job(*j), jobs))
    table = write_outputs(results, methods, teachers, args)
    print('\n' + table)
    failed = [r for r in runs if r['top1'] is None]
    for run in failed:
        print(f'{run["method"]} seed {run["seed"]}: FAILED (train.log)')
    cpu = sum(r.get('cpu_seconds', 0.) for r in results)
    progress.say(f'Wrote {osp.join(args.out_dir, "accuracy_cifar10_sgd")}'
                 f'.md, .csv, .png; {len(results)} runs in '
                 f'{progress.elapsed() / 60:.1f} min with --jobs '
                 f'{args.jobs}, {cpu / 60:.1f} CPU-minutes in the runs')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
