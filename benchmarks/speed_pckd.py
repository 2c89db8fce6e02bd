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
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from speed_cases import build_model, training_case  # noqa: E402
from speed_utils import (parse_speed_args, run_method_table,  # noqa: E402
                         sgd_step_fn, verdict)

PCKD_CONFIG = 'pckd/pckd_resnet32x4_resnet8x4_1xb64_cifar100.py'
KD_CONFIG = 'kd/kd_resnet32x4_resnet8x4_1xb64_cifar100.py'
STUDENT_CONFIG = 'students/resnet8x4_1xb64_cifar100.py'
NUM_CLASSES = 100
NUM_VIEWS = 4


def with_data_preprocessor(cfg):
    """Give a distiller config the config's data preprocessor (PCKD's
    multi-view one), as :func:`speed_cases.build_model`'s ``edit``."""
    if 'teacher' in cfg.model:
        cfg.model.data_preprocessor = cfg.data_preprocessor


def build_pckd_model():
    """The PCKD distiller, as :func:`build_cases` times it."""
    return build_model(PCKD_CONFIG, with_data_preprocessor)


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


def _set_epoch(model):
    """Epoch 1 of 240, as DistillEpochHook would set it in a runner."""
    model.set_epoch(1, 240)


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

    def rotated_batch(model):
        return make_batch(model, images, image_size)

    def pckd():
        model = build_pckd_model()
        _set_epoch(model)
        return model

    def reference(config, samples):
        """``config``'s model on the first ``samples`` of PCKD's batch."""

        def build():
            torch.manual_seed(0)
            inputs, data_samples = rotated_batch(build_pckd_model())
            model = build_model(config, with_data_preprocessor)
            return sgd_step_fn(model, inputs[:samples], data_samples[:samples])

        return build

    samples = NUM_VIEWS * images
    return {
        'PCKD': training_case(pckd, rotated_batch),
        f'KD ({samples})': reference(KD_CONFIG, samples),
        f'student ({images})': reference(STUDENT_CONFIG, images),
    }


def main():
    args = parse_speed_args(__doc__.split('\n')[0], '--images', 64,
                            rounds=10, warmup=2)

    cases = build_cases(args.images)
    pckd, kd, student = list(cases)
    timings = run_method_table(
        cases, args, f'resnet32x4 -> resnet8x4, {args.images} images x '
        f'{NUM_VIEWS} views, 32x32 inputs', pckd, 2)
    to_kd = timings[pckd]['median'] / timings[kd]['median']
    to_student = timings[pckd]['median'] / timings[student]['median']
    print(f'\nPCKD / {kd}: {to_kd:.3f} (target <= 1.10: '
          f'{verdict(to_kd <= 1.10)})')
    print(f'PCKD / {student}: {to_student:.2f}')


if __name__ == '__main__':
    main()
