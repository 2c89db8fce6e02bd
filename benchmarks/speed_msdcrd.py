"""Training-iteration time and peak memory of MSDCRD against the student
alone, KD and CRD, for resnet32x4 -> resnet8x4 on CIFAR-sized inputs.

Every case is built from the config a user would train (teacher weights
left random: ``teacher_ckpt=None``) and timed for one full iteration
(forward, backward, SGD step) on a fixed batch, interleaved with the other
cases. Also prints the number of buffer elements held by each distiller's
losses and connectors: CRD's memory banks grow with the dataset, MSDCRD
holds none.

    python benchmarks/speed_msdcrd.py [--batch-size 64] [--threads 2]

Targets (issue 3): MSDCRD <= 1.10 x KD per iteration and below CRD.
"""
import logging
import os.path as osp
import statistics
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_utils import (machine_line, measure_cases,  # noqa: E402
                         parse_speed_args, print_table, sgd_step_fn)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Case name -> config, relative to configs/.
CONFIGS = {
    'student alone': 'students/resnet8x4_1xb64_cifar100.py',
    'KD': 'kd/kd_resnet32x4_resnet8x4_1xb64_cifar100.py',
    'CRD': 'crd/crd_resnet32x4_resnet8x4_1xb64_cifar100.py',
    'MSDCRD': 'msdcrd/msdcrd_resnet32x4_resnet8x4_1xb64_cifar100.py',
}
NUM_CLASSES = 100
# CRD's banks have one row per training image; its sample indices must lie
# below this.
NUM_TRAIN_IMAGES = 50000


def build_model(config):
    """Build the model of ``configs/<config>`` in training mode, with the
    teacher (if any) left at its initial weights."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    import mmkd_contrast  # noqa: F401
    from mmkd_contrast.models.utils import build_in_scope

    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = None
    # The 'no teacher_ckpt' warning is expected here; keep the output clean.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model = build_in_scope(cfg.model)
    finally:
        logger.setLevel(level)
    return model.train()


def make_batch(batch_size, seed=0):
    """A fixed CIFAR-sized batch: ``(inputs, data_samples)`` with labels and
    distinct dataset indices (CRD reads ``sample_idx``)."""
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 3, 32, 32, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (batch_size, ), generator=gen)
    indices = torch.randperm(NUM_TRAIN_IMAGES, generator=gen)[:batch_size]
    data_samples = [
        DataSample(metainfo=dict(sample_idx=int(i))).set_gt_label(int(y))
        for i, y in zip(indices, labels)
    ]
    return inputs, data_samples


def _case(config, batch_size):

    def build():
        torch.manual_seed(0)
        model = build_model(config)
        inputs, data_samples = make_batch(batch_size)
        return sgd_step_fn(model, inputs, data_samples)

    return build


def build_cases(batch_size=64):
    """The four cases of this benchmark.

    Args:
        batch_size (int): Images per iteration. Defaults to 64.

    Returns:
        dict: Case name (``'student alone'``, ``'KD'``, ``'CRD'``,
        ``'MSDCRD'``) to a zero-argument build function returning a
        ``step()`` that runs one training iteration.
    """
    return {
        name: _case(config, batch_size)
        for name, config in CONFIGS.items()
    }


def distill_buffer_elements(config):
    """Number of buffer elements in the losses and connectors of a
    distiller config (0 for a plain classifier)."""
    model = build_model(config)
    total = 0
    for name in ('distill_losses', 'connectors'):
        if hasattr(model, name):
            total += sum(b.numel() for b in getattr(model, name).buffers())
    return total


def quartiles(times):
    """The 25th and 75th percentiles of ``times``."""
    cuts = statistics.quantiles(times, n=4)
    return cuts[0], cuts[2]


def main():
    args = parse_speed_args(__doc__.split('\n')[0], '--batch-size', 64,
                            rounds=20, warmup=3)

    cases = build_cases(args.batch_size)
    print(f'{machine_line()}; resnet32x4 -> resnet8x4, batch '
          f'{args.batch_size}, 32x32 inputs, {args.rounds} interleaved '
          f'rounds after {args.warmup} warm-up steps', flush=True)
    peaks, timings = measure_cases(cases, args.warmup, args.rounds)
    base = timings['student alone']['median']
    rows = []
    for name in cases:
        kind, peak = peaks[name]
        median = timings[name]['median']
        rows.append({
            'case': name,
            'ms / iter (median)': f'{1000 * median:.0f}',
            'p25-p75 (ms)': '{:.0f}-{:.0f}'.format(
                *(1000 * q for q in quartiles(timings[name]['times']))),
            'x student alone': f'{median / base:.2f}',
            f'peak memory (MiB, {kind})': f'{peak:.0f}',
            'loss + connector buffer elements':
            f'{distill_buffer_elements(CONFIGS[name]):,}',
        })
    print_table(rows, list(rows[0]))
    msd = timings['MSDCRD']['median']
    kd = timings['KD']['median']
    crd = timings['CRD']['median']
    print(f'\nMSDCRD / KD  = {msd / kd:.3f}  (target <= 1.10: '
          f'{"met" if msd <= 1.10 * kd else "MISSED"})')
    print(f'MSDCRD / CRD = {msd / crd:.3f}  (target < 1: '
          f'{"met" if msd < crd else "MISSED"})')


if __name__ == '__main__':
    main()
