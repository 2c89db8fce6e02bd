"""Models, batches and timed cases of the speed benchmarks.

Every speed benchmark builds its models from the configs a user trains
(teacher weights left random: ``teacher_ckpt=None``), feeds them one fixed
random batch and times full training iterations; this module holds that
part so that each ``speed_*.py`` keeps only what its benchmark measures.
"""
import logging
import os.path as osp

import torch

from speed_utils import sgd_step_fn

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def build_quietly(model_cfg):
    """Build ``model_cfg`` in the package's scope, in training mode, with
    the logger's warnings held back (a missing ``teacher_ckpt`` is expected
    in a benchmark)."""
    from mmengine.logging import MMLogger

    import mmkd_contrast  # noqa: F401  registers modules
    from mmkd_contrast.utils import build_in_scope

    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model = build_in_scope(model_cfg)
    finally:
        logger.setLevel(level)
    return model.train()


def build_model(config, edit=None):
    """Build the model of ``configs/<config>`` in training mode, with the
    teacher (if any) left at its initial weights.

    Args:
        config (str): The config file, relative to ``configs/``.
        edit (callable, optional): Called with the loaded config (after
            ``teacher_ckpt`` is dropped) to change it before the build; it
            may return a model config to build instead of ``cfg.model``.

    Returns:
        nn.Module: The model.
    """
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    if 'teacher' in cfg.model:
        cfg.model.teacher_ckpt = None
    model_cfg = edit(cfg) if edit is not None else None
    return build_quietly(cfg.model if model_cfg is None else model_cfg)


def random_batch(batch_size, num_classes, image_size, num_samples=None,
                 seed=0):
    """A fixed batch ``(inputs, data_samples)`` of random images.

    Args:
        batch_size (int): Images in the batch.
        num_classes (int): Labels are drawn below this.
        image_size (int): Side of the square ``3 x H x W`` inputs.
        num_samples (int, optional): With it, every data sample also gets a
            distinct ``sample_idx`` below it (CRD reads it to address its
            memory banks).
        seed (int): Seed of the batch's own generator.

    Returns:
        tuple: ``inputs (batch_size, 3, H, W)`` and the data samples.
    """
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(
        batch_size, 3, image_size, image_size, generator=gen)
    labels = torch.randint(0, num_classes, (batch_size, ), generator=gen)
    if num_samples is None:
        return inputs, [DataSample().set_gt_label(int(y)) for y in labels]
    indices = torch.randperm(num_samples, generator=gen)[:batch_size]
    data_samples = [
        DataSample(metainfo=dict(sample_idx=int(i))).set_gt_label(int(y))
        for i, y in zip(indices, labels)
    ]
    return inputs, data_samples


def training_case(make_model, make_batch):
    """A case (see ``speed_utils``): seed torch, build the model and the
    batch, and return the ``step()`` of one SGD training iteration.

    Args:
        make_model (callable): Returns the model.
        make_batch (callable): Called with the model, returns ``(inputs,
            data_samples)``.

    Returns:
        callable: The case's zero-argument build function.
    """

    def build():
        torch.manual_seed(0)
        model = make_model()
        inputs, data_samples = make_batch(model)
        return sgd_step_fn(model, inputs, data_samples)

    return build
