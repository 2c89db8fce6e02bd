"""Training-iteration time and peak memory of PCKD against KD on the same
rotated samples and the student alone, for resnet32x4 -> resnet8x4 on
CIFAR-sized inputs.

PCKD trains on 4 rotated views of every image: a batch of 64 images is 256
samples through both networks. Its cost is therefore compared with

- ``KD (256)``: the KD config run on the same 256 samples (student CE and
  KD on all of them), which isolates what PCKD's own terms (preview
  weights, L_CC, L_CA, L_FA and the heads) add to an iteration;
- ``student (64)``: the student alone on the 64 images, the price of the
  method against plain training.

Every case is built from the config a user would train (teacher weights
left random: ``teacher_ckpt=None``) and timed for one full iteration
(forward, backward, SGD step) on a fixed batch, interleaved with the other
cases; peak memory is measured separately for each case.

    python benchmarks/speed_pckd.py [--images 64] [--threads 2]

Target (issue 4): PCKD / KD (256) <= 1.10.
"""
import logging
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_utils import (machine_line, measure_cases,  # noqa: E402
                         parse_speed_args, print_table, sgd_step_fn)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

PCKD_CONFIG = 'pckd/pckd_resnet32x4_resnet8x4_1xb64_cifar100.py'
KD_CONFIG = 'kd/kd_resnet32x4_resnet8x4_1xb64_cifar100.py'
STUDENT_CONFIG = 'students/resnet8x4_1xb64_cifar100.py'
NUM_CLASSES = 100
NUM_VIEWS = 4


def build_model(config):
    """Build the model of ``configs/<config>`` in training mode, with the
    teacher (if any) left at its initial weights and the config's data
    preprocessor."""
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    import mmkd_contrast  # noqa: F401
    from mmkd_contrast.models.utils import build_in_scope

    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    model_cfg = cfg.model
    if 'teacher' in model_cfg:
        model_cfg.teacher_ckpt = None
        model_cfg.data_preprocessor = cfg.data_preprocessor
    # The 'no teacher_ckpt' warning is expected here; keep the output clean.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model = build_in_scope(model_cfg)
    finally:
        logger.setLevel(level)
    return model.train()


def make_batch(model, images, image_size=32, seed=0):
    """A fixed batch of ``images`` 4-view samples, as RotationViews and
    PackInputs give them, through ``model``'s multi-view preprocessor.

    Returns:
        tuple: ``inputs (4 * images, 3, H, W)`` view-major and the
        ``4 * images`` data samples (labels repeated, view metainfo set).
    """
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    views = torch.randint(
        0, 256, (images, NUM_VIEWS, 3, image_size, image_size),
        generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, NUM_CLASSES, (images, ), generator=gen)
    data_samples = [DataSample().set_gt_label(int(y)) for y in labels]
    data = model.data_preprocessor(
        dict(inputs=views, data_samples=data_samples), training=True)
    return data['inputs'], data['data_samples']


def _set_epoch():
    """Epoch 1 of 240 in the MessageHub, as the Runner would set it."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)
    hub.update_info('max_epochs', 240)


def build_cases(images=64, image_size=32):
    """The three cases of this benchmark.

    Args:
        images (int): Images per PCKD iteration (each gives 4 rotated
            samples). Defaults to 64.
        image_size (int): Side of the square inputs. Defaults to 32.

    Returns:
        dict: Case name to a zero-argument build function returning a
        ``step()`` that runs one training iteration: ``'PCKD'`` on
        ``4 * images`` rotated samples, ``'KD (4B)'`` (KD on the same
        ``4 * images`` samples) and ``'student (B)'`` (the student alone on
        the ``images`` unrotated views), with ``B`` and ``4B`` written out
        (e.g. ``'KD (256)'``, ``'student (64)'``).
    """

    def pckd():
        torch.manual_seed(0)
        _set_epoch()
        model = build_model(PCKD_CONFIG)
        inputs, data_samples = make_batch(model, images, image_size)
        return sgd_step_fn(model, inputs, data_samples)

    def kd():
        torch.manual_seed(0)
        pckd_model = build_model(PCKD_CONFIG)
        inputs, data_samples = make_batch(pckd_model, images, image_size)
        del pckd_model
        model = build_model(KD_CONFIG)
        return sgd_step_fn(model, inputs, data_samples)

    def student():
        torch.manual_seed(0)
        pckd_model = build_model(PCKD_CONFIG)
        inputs, data_samples = make_batch(pckd_model, images, image_size)
        del pckd_model
        model = build_model(STUDENT_CONFIG)
        return sgd_step_fn(model, inputs[:images], data_samples[:images])

    samples = NUM_VIEWS * images
    return {
        'PCKD': pckd,
        f'KD ({samples})': kd,
        f'student ({images})': student,
    }


def main():
    args = parse_speed_args(__doc__.split('\n')[0], '--images', 64,
                            rounds=10, warmup=2)

    cases = build_cases(args.images)
    pckd, kd, student = list(cases)
    print(f'{machine_line()}; resnet32x4 -> resnet8x4, {args.images} images '
          f'x {NUM_VIEWS} views, 32x32 inputs, {args.rounds} interleaved '
          f'rounds after {args.warmup} warm-up steps', flush=True)
    peaks, timings = measure_cases(cases, args.warmup, args.rounds)
    rows = []
    for name in cases:
        kind, peak = peaks[name]
        median = timings[name]['median']
        rows.append({
            'case': name,
            'ms / iter (median)': f'{1000 * median:.0f}',
            'x PCKD': f'{median / timings[pckd]["median"]:.2f}',
            f'peak memory (MiB, {kind})': f'{peak:.0f}',
        })
    print_table(rows, list(rows[0]))
    to_kd = timings[pckd]['median'] / timings[kd]['median']
    to_student = timings[pckd]['median'] / timings[student]['median']
    print(f'\nPCKD / {kd}: {to_kd:.3f} (target <= 1.10: '
          f'{"met" if to_kd <= 1.10 else "MISSED"})')
    print(f'PCKD / {student}: {to_student:.2f}')


if __name__ == '__main__':
    main()
