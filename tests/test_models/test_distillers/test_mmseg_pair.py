"""A real mmseg pair, the README way: the shipped PSPNet R-101-D8 -> R-18-D8
configs (MSDCRD or LFCC, plus per-pixel KD) train through the Runner on tiny
Cityscapes-layout data made here, validate, export the student and reload it
with plain mmseg.

Only what tiny data forces is overridden: the data root, the pipelines
(64x64 crops), the preprocessor's pad size, two iterations, and no
ImageNet-pretrained student download. The architectures are the shipped
ones. Skipped, with the reason, without mmsegmentation and full mmcv.
"""
import os
import os.path as osp

import numpy as np
import pytest
from ecosystem_helpers import (ROOT, derive_config, export_and_compare,
                               kept_global_state, skip_module_without,
                               train_checked)

skip_module_without('mmseg')

import mmkd_contrast  # noqa: E402,F401

CONFIGS = osp.join(ROOT, 'configs', 'mmseg')
PAIR = 'pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024.py'


def make_cityscapes(root, split, num):
    """``num`` random 64x96 images and label maps (train ids 0-18 and 255)
    in mmseg's Cityscapes layout."""
    import cv2
    rng = np.random.default_rng(0 if split == 'train' else 1)
    for i in range(num):
        stem = f'tiny_{i:06d}_000019'
        img_dir = osp.join(root, 'leftImg8bit', split, 'tiny')
        ann_dir = osp.join(root, 'gtFine', split, 'tiny')
        for d in (img_dir, ann_dir):
            os.makedirs(d, exist_ok=True)
        img = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
        label = rng.integers(0, 19, (64, 96), dtype=np.uint8)
        label[:8] = 255  # an ignored band
        cv2.imwrite(osp.join(img_dir, f'{stem}_leftImg8bit.png'), img)
        cv2.imwrite(
            osp.join(ann_dir, f'{stem}_gtFine_labelTrainIds.png'), label)


def tiny_config(tmp_path, method):
    data = tmp_path / 'cityscapes'
    make_cityscapes(str(data), 'train', 4)
    make_cityscapes(str(data), 'val', 2)
    shipped = osp.join(CONFIGS, f'{method}_{PAIR}')
    return derive_config(tmp_path, shipped, f'''
data_root = {str(data) + '/'!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=1000)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(interval=2))
model = dict(
    teacher_ckpt={str(tmp_path / 'teacher.pth')!r},
    student=dict(pretrained=None, data_preprocessor=dict(size=(64, 64))),
    teacher=dict(data_preprocessor=dict(size=(64, 64))))
''')


@pytest.mark.parametrize('method, losses', [
    ('msdcrd', ('kd', 'msdcrd')),
    ('lfcc', ('kd', 'lfcc_stage3', 'lfcc_stage4')),
])
def test_pspnet_pair_trains_validates_exports(tmp_path, method, losses):
    with kept_global_state():
        derived, cfg = tiny_config(tmp_path, method)
        assert cfg.default_scope == 'mmseg'
        runner = train_checked(cfg, losses, 'decode.loss_ce')
        assert type(runner.model.data_preprocessor).__name__ == \
            'SegDataPreProcessor'

        metrics = runner.val()
        assert 'mIoU' in metrics and 0 <= metrics['mIoU'] <= 100

        got = export_and_compare(runner, derived, 'iter_2.pth',
                                 'mmseg.EncoderDecoder')
    assert got.shape[1] == 19
