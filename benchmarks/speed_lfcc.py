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
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_cases import build_model, random_batch, training_case  # noqa: E402

from speed_utils import (parse_speed_args, run_method_table,  # noqa: E402
                         verdict)

CONFIG = 'lfcc/lfcc_deit-tiny_resnet18_8xb64_in1k.py'
NUM_CLASSES = 1000
IMAGE_SIZE = 224


def edit_config(method):
    """The change of the config that gives a case's model.

    Args:
        method (str): ``'LFCC'`` (the config as it is), ``'KD'`` (the
            config without its LFCC stages) or ``'LFCC dense filter'`` (the
            config with dense, channel-mixing learnable filters).

    Returns:
        callable: Changes a loaded config in place (see
        :func:`speed_cases.build_model`).
    """
    if method not in ('KD', 'LFCC', 'LFCC dense filter'):
        raise ValueError(f'unknown method {method!r}')

    def edit(cfg):
        model_cfg = cfg.model
        if method == 'KD':
            model_cfg.student_taps = dict(
                logits=model_cfg.student_taps.logits)
            model_cfg.teacher_taps = dict(
                logits=model_cfg.teacher_taps.logits)
            model_cfg.connectors = dict()
            model_cfg.distill_losses = dict(kd=model_cfg.distill_losses.kd)
            model_cfg.loss_inputs = dict(kd=model_cfg.loss_inputs.kd)
        elif method == 'LFCC dense filter':
            for chain in model_cfg.connectors.values():
                for step in chain.connectors:
                    if step.type.split('.')[-1] == 'LearnableLowPassFilter':
                        step.per_channel = False

    return edit


def make_batch(batch_size, seed=0):
    """A fixed ImageNet-sized batch ``(inputs, data_samples)``."""
    return random_batch(batch_size, NUM_CLASSES, IMAGE_SIZE, seed=seed)


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
        method: training_case(
            lambda method=method: build_model(CONFIG, edit_config(method)),
            lambda model: make_batch(batch_size))
        for method in ('KD', 'LFCC', 'LFCC dense filter')
    }


def main():
    args = parse_speed_args(__doc__.split('\n')[0], '--batch-size', 16,
                            rounds=20, warmup=3)

    timings = run_method_table(
        build_cases(args.batch_size), args,
        f'DeiT-T -> ResNet-18, batch {args.batch_size}, '
        f'{IMAGE_SIZE}x{IMAGE_SIZE} inputs', 'KD', 3)
    print()
    kd = timings['KD']['median']
    ratio = timings['LFCC']['median'] / kd
    print(f'LFCC / KD = {ratio:.3f}  (target <= 1.10: '
          f'{verdict(ratio <= 1.10)})')
    dense = timings['LFCC dense filter']['median'] / kd
    print(f'LFCC dense filter / KD = {dense:.3f}  (the variant, no target)')


if __name__ == '__main__':
    main()
