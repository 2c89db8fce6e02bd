"""Training-iteration time and peak memory of LFCC against KD on the same
heterogeneous pair, DeiT-T -> ResNet-18 at ImageNet resolution (224x224).

The LFCC case is built from ``configs/lfcc/lfcc_deit-tiny_resnet18_8xb64_
in1k.py`` (teacher weights left random: ``teacher_ckpt=None``); the KD case
is the same config with the LFCC stages removed (KD on the logits only, tau
4, weight 1, same student loss); the third case is the config with the
student's learnable low-pass filters made dense
(``LearnableLowPassFilter(per_channel=False)``, a 3x3 convolution that also
mixes channels; the configs ship the per-channel filter). Each case runs full
iterations (forward, backward, SGD step) on one fixed batch, interleaved
with the other cases.

    python benchmarks/speed_lfcc.py [--batch-size 16] [--threads 2]

Target (issue 5): LFCC <= 1.10 x KD per iteration.
"""
import logging
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_utils import (machine_line, measure_cases,  # noqa: E402
                         parse_speed_args, print_table, sgd_step_fn)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'lfcc/lfcc_deit-tiny_resnet18_8xb64_in1k.py'
NUM_CLASSES = 1000
IMAGE_SIZE = 224


def build_model(method):
    """Build the pair's distiller in training mode, teacher weights random.

    Args:
        method (str): ``'LFCC'`` (the config as it is), ``'KD'`` (the
            config without its LFCC stages) or ``'LFCC dense filter'`` (the
            config with dense, channel-mixing learnable filters).

    Returns:
        nn.Module: The distiller.
    """
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    import mmkd_contrast  # noqa: F401
    from mmkd_contrast.models.utils import build_in_scope

    cfg = Config.fromfile(osp.join(ROOT, 'configs', CONFIG))
    cfg.model.teacher_ckpt = None
    if method == 'KD':
        model_cfg = cfg.model
        model_cfg.student_taps = dict(logits=model_cfg.student_taps.logits)
        model_cfg.teacher_taps = dict(logits=model_cfg.teacher_taps.logits)
        model_cfg.connectors = dict()
        model_cfg.distill_losses = dict(kd=model_cfg.distill_losses.kd)
        model_cfg.loss_inputs = dict(kd=model_cfg.loss_inputs.kd)
    elif method == 'LFCC dense filter':
        for chain in cfg.model.connectors.values():
            for step in chain.connectors:
                if step.type == 'LearnableLowPassFilter':
                    step.per_channel = False
    elif method != 'LFCC':
        raise ValueError(f'unknown method {method!r}')
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
    """A fixed ImageNet-sized batch ``(inputs, data_samples)``."""
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(
        batch_size, 3, IMAGE_SIZE, IMAGE_SIZE, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (batch_size, ), generator=gen)
    data_samples = [DataSample().set_gt_label(int(y)) for y in labels]
    return inputs, data_samples


def _case(method, batch_size):

    def build():
        torch.manual_seed(0)
        model = build_model(method)
        inputs, data_samples = make_batch(batch_size)
        return sgd_step_fn(model, inputs, data_samples)

    return build


def build_cases(batch_size=16):
    """The cases of this benchmark.

    Args:
        batch_size (int): Images per iteration. Defaults to 16.

    Returns:
        dict: Case name (``'KD'``, ``'LFCC'``, ``'LFCC dense filter'``) to a
        zero-argument build function returning a ``step()`` that runs one
        training iteration of DeiT-T -> ResNet-18 on 224x224 inputs.
    """
    return {
        method: _case(method, batch_size)
        for method in ('KD', 'LFCC', 'LFCC dense filter')
    }


def main():
    args = parse_speed_args(__doc__.split('\n')[0], '--batch-size', 16,
                            rounds=20, warmup=3)

    cases = build_cases(args.batch_size)
    print(f'{machine_line()}; DeiT-T -> ResNet-18, batch {args.batch_size}, '
          f'{IMAGE_SIZE}x{IMAGE_SIZE} inputs, {args.rounds} interleaved '
          f'rounds after {args.warmup} warm-up steps', flush=True)
    peaks, timings = measure_cases(cases, args.warmup, args.rounds)
    kd = timings['KD']['median']
    rows = []
    for name in cases:
        kind, peak = peaks[name]
        median = timings[name]['median']
        rows.append({
            'case': name,
            'ms / iter (median)': f'{1000 * median:.0f}',
            'x KD': f'{median / kd:.3f}',
            f'peak memory (MiB, {kind})': f'{peak:.0f}',
        })
    print_table(rows, list(rows[0]))
    print()
    ratio = timings['LFCC']['median'] / kd
    print(f'LFCC / KD = {ratio:.3f}  (target <= 1.10: '
          f'{"met" if ratio <= 1.10 else "MISSED"})')
    dense = timings['LFCC dense filter']['median'] / kd
    print(f'LFCC dense filter / KD = {dense:.3f}  (the variant, no target)')


if __name__ == '__main__':
    main()
