"""Top-1 of a trained distiller's student before and after re-estimating
its BatchNorm statistics on plain (unrotated, unaugmented) training images.

A measurement for PCKD, whose student trains on batches of four rotated
views: its BatchNorm running statistics average over rotations that the
test images never show. If re-estimating them on upright images moves the
top-1, the statistics, not the weights, account for that part.

    python benchmarks/bn_recalibration.py CONFIG CHECKPOINT [--images 5000]
"""
import argparse
import copy

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import load_checkpoint

import mmkd_contrast  # noqa: F401
from mmkd_contrast.registry import DATASETS
from mmkd_contrast.utils import build_in_scope


def top1(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                correct += int(sample.pred_label == sample.gt_label)
                total += 1
    return 100.0 * correct / total


def recalibrate(model, loader):
    """Recompute every BatchNorm's running mean/var as the plain average
    over ``loader`` (momentum None), weights untouched."""
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for batch in loader:
            model(**model.data_preprocessor(batch, False), mode='tensor')
    model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--images', type=int, default=5000,
                        help='upright training images for the statistics')
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    cfg.model.teacher_ckpt = None
    cfg.model.allow_random_teacher = True
    if cfg.get('data_preprocessor'):  # what the Runner hands the model
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    DefaultScope.get_instance('bn_recalibration', scope_name='mmkd_contrast')
    distiller = build_in_scope(cfg.model)
    load_checkpoint(distiller, args.checkpoint, map_location='cpu')
    student = distiller.student
    test_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    test_set = DATASETS.build(test_cfg)
    plain = copy.deepcopy(test_cfg)
    plain.data_prefix = 'train'
    plain.indices = list(range(0, 50000, 50000 // args.images))
    train_set = DATASETS.build(plain)
    loader = dict(batch_size=64, collate_fn=pseudo_collate)
    test_loader = torch.utils.data.DataLoader(test_set, **loader)
    train_loader = torch.utils.data.DataLoader(train_set, **loader)
    before = top1(student, test_loader)
    print(f'top-1 as trained: {before:.2f}', flush=True)
    recalibrate(student, train_loader)
    after = top1(student, test_loader)
    print(f'top-1 with BatchNorm statistics of {len(train_set)} upright '
          f'training images: {after:.2f} ({after - before:+.2f})')


if __name__ == '__main__':
    main()
