"""CPU time of one training iteration of each row of the SGD CIFAR-10
benchmark (``benchmarks/accuracy_cifar10_sgd.py``), to size its protocol.

Every row is built from its real config with the real data loader (JPEG
decoding and augmentation included) and stepped in interleaved rounds,
so that a change in machine load touches every row alike; the first round
is a warm-up. Each figure is the median over the rounds of the process CPU
time (``time.process_time``) of one batch: loading it plus ``train_step``.
One torch thread, as each job of ``--jobs 2`` gets on 2 cores.

    python benchmarks/step_cost_cifar10_sgd.py \\
        --teacher-ckpt work_dirs/teachers_cifar10/resnet56_cifar10-pre.pth

Any resnet56 checkpoint of the teacher's layout times the same (the
converted, not yet fine-tuned one will do).
"""
import argparse
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import accuracy_cifar10_sgd as sgd  # noqa: E402


def build_row(method, teacher_ckpt, data_root, per_class=None):
    """Model, optimiser wrapper and batch iterator of one row."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from mmkd_contrast.utils import build_in_scope
    cfg = Config.fromfile(osp.join(sgd.common.CONFIGS, method.config))
    if method.teacher:
        cfg.model.teacher_ckpt = teacher_ckpt
    if 'data_preprocessor' not in cfg.model:
        cfg.model.data_preprocessor = cfg.data_preprocessor
    model = build_in_scope(cfg.model)
    model.train()
    if hasattr(model, 'preview'):  # PCKD, outside a Runner
        model.preview.set_max_epochs(sgd.EPOCHS)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    loader_cfg = cfg.train_dataloader
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader_cfg.dataset.dataset.data_root = data_root
    if per_class is not None:
        loader_cfg.dataset.num_per_class = per_class
    loader = Runner.build_dataloader(loader_cfg, seed=0)

    def batches():
        while True:  # as many rounds as asked, whatever the subset size
            yield from loader

    return model, optim_wrapper, batches()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--teacher-ckpt', required=True,
                        help='a resnet56 checkpoint of the teacher layout')
    parser.add_argument('--data-root', default=sgd.DATA_ROOT)
    parser.add_argument('--rounds', type=int, default=6,
                        help='timed rounds after one warm-up (default 6)')
    parser.add_argument('--per-class', type=int,
                        help='training images per class to draw batches '
                        'from (tests; default: the protocol\'s)')
    args = parser.parse_args(argv)
    problem = sgd.earlier.missing_data(args.data_root)
    if problem:
        sys.exit(problem)
    torch.set_num_threads(1)
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance('step_cost', scope_name='mmkd_contrast')
    rows = {m.name: build_row(m, args.teacher_ckpt, args.data_root,
                              args.per_class) for m in sgd.METHODS}
    seconds = {name: [] for name in rows}
    for round_index in range(args.rounds + 1):
        for name, (model, optim_wrapper, batches) in rows.items():
            start = time.process_time()
            model.train_step(next(batches), optim_wrapper)
            if round_index:
                seconds[name].append(time.process_time() - start)
    medians = {k: statistics.median(v) for k, v in seconds.items()}
    base = medians[sgd.BASELINE]
    iterations = -(-sgd.NUM_CLASSES * sgd.PER_CLASS // 64) * sgd.EPOCHS
    print(f'| row | CPU ms / iteration | × student alone | CPU min for '
          f'{iterations} iterations |')
    print('|---|---|---|---|')
    for name, value in medians.items():
        print(f'| {name} | {value * 1000:.0f} | {value / base:.2f} | '
              f'{value * iterations / 60:.1f} |')
    total = sum(medians.values()) * iterations / 60
    print(f'\nOne seed, all rows: {total:.1f} CPU-minutes of training '
          f'iterations ({iterations} per row)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
