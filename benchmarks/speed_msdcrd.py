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
import os.path as osp
import statistics
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_cases import build_model, random_batch, training_case  # noqa: E402
from speed_utils import (parse_speed_args, run_method_table,  # noqa: E402
                         verdict)

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


def make_batch(batch_size, seed=0):
    """A fixed CIFAR-sized batch: ``(inputs, data_samples)`` with labels and
    distinct dataset indices (CRD reads ``sample_idx``)."""
    return random_batch(batch_size, NUM_CLASSES, 32,
                        num_samples=NUM_TRAIN_IMAGES, seed=seed)


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
        name: training_case(lambda config=config: build_model(config),
                            lambda model: make_batch(batch_size))
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

    def quartile_column(name, timing):
        low, high = quartiles(timing['times'])
        return {'p25-p75 (ms)': f'{1000 * low:.0f}-{1000 * high:.0f}'}

    def buffer_column(name, timing):
        elements = distill_buffer_elements(CONFIGS[name])
        return {'loss + connector buffer elements': f'{elements:,}'}

    timings = run_method_table(
        build_cases(args.batch_size), args,
        f'resnet32x4 -> resnet8x4, batch {args.batch_size}, 32x32 inputs',
        'student alone', 2, between=quartile_column, after=buffer_column)
    msd = timings['MSDCRD']['median']
    kd = timings['KD']['median']
    crd = timings['CRD']['median']
    print(f'\nMSDCRD / KD  = {msd / kd:.3f}  (target <= 1.10: '
          f'{verdict(msd <= 1.10 * kd)})')
    print(f'MSDCRD / CRD = {msd / crd:.3f}  (target < 1: '
          f'{verdict(msd < crd)})')


if __name__ == '__main__':
    main()
