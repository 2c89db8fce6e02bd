"""A real mmdet pair, the README way: the shipped RetinaNet R-101 -> R-50
FPN configs (MSDCRD or LFCC on FPN levels) train through the Runner on tiny
COCO-format data made here, validate with the COCO metric, export the
student and reload it with plain mmdet.

Only what tiny data forces is overridden: the data files, the pipelines
(128x128 images, so that P5 is 4x4), one epoch of two iterations, no
ImageNet-pretrained student download, and score_thr=0 so that the barely
trained student's low scores still give boxes to evaluate. The
architectures are the shipped ones. Skipped, with the reason, without
mmdet and full mmcv.
"""
import json
import os
import os.path as osp

import numpy as np
import pytest
from ecosystem_helpers import (ROOT, derive_config, export_and_compare,
                               kept_global_state, skip_module_without,
                               train_checked)

skip_module_without('mmdet')

import mmkd_contrast  # noqa: E402,F401

CONFIGS = osp.join(ROOT, 'configs', 'mmdet')
PAIR = 'retinanet-r101_retinanet-r50_fpn_1x_coco.py'


def make_coco(root, split, num):
    """``num`` random 128x128 images with one or two boxes (COCO's 'person'
    and 'bicycle'), and their annotation file, which lists all 80 COCO
    categories as COCO's does (the metric maps label i to the i-th)."""
    import cv2
    from mmdet.datasets import CocoDataset
    rng = np.random.default_rng(0 if split == 'train' else 1)
    os.makedirs(osp.join(root, split), exist_ok=True)
    images, annotations = [], []
    for i in range(num):
        name = f'{i:012d}.jpg'
        cv2.imwrite(
            osp.join(root, split, name),
            rng.integers(0, 256, (128, 128, 3), dtype=np.uint8))
        images.append(dict(id=i + 1, file_name=name, width=128, height=128))
        for j, category in enumerate((1, 2)[:1 + i % 2]):
            x, y = 10 + 40 * j, 20
            annotations.append(
                dict(id=len(annotations) + 1, image_id=i + 1,
                     category_id=category, bbox=[x, y, 48, 64], area=48 * 64,
                     iscrowd=0))
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    path = osp.join(root, 'annotations', f'{split}.json')
    with open(path, 'w') as f:
        json.dump(
            dict(images=images, annotations=annotations,
                 categories=[
                     dict(id=k + 1, name=name) for k, name in enumerate(
                         CocoDataset.METAINFO['classes'])]), f)
    return path


def tiny_config(tmp_path, method):
    data = str(tmp_path / 'coco')
    make_coco(data, 'train', 4)
    val_ann = make_coco(data, 'val', 2)
    shipped = osp.join(CONFIGS, f'{method}_{PAIR}')
    return derive_config(tmp_path, shipped, f'''
data_root = {data + '/'!r}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file={val_ann!r})
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1000)
default_hooks = dict(logger=dict(interval=1))
model = dict(
    teacher_ckpt={str(tmp_path / 'teacher.pth')!r},
    student=dict(backbone=dict(init_cfg=None),
                 test_cfg=dict(score_thr=0.0)))
''')


@pytest.mark.parametrize('method, losses', [
    ('msdcrd', ('msdcrd', )),
    ('lfcc', ('lfcc_p4', 'lfcc_p5')),
])
def test_retinanet_pair_trains_validates_exports(tmp_path, method, losses):
    with kept_global_state():
        derived, cfg = tiny_config(tmp_path, method)
        assert cfg.default_scope == 'mmdet'
        runner = train_checked(cfg, losses, 'loss_cls')
        assert type(runner.model.data_preprocessor).__name__ == \
            'DetDataPreprocessor'

        metrics = runner.val()
        assert 'coco/bbox_mAP' in metrics, metrics
        assert 0 <= metrics['coco/bbox_mAP'] <= 1

        got = export_and_compare(runner, derived, 'epoch_1.pth',
                                 'mmdet.RetinaNet')
    # (cls_scores, bbox_preds), one map per FPN level.
    assert len(got) == 2 and len(got[0]) == 5
