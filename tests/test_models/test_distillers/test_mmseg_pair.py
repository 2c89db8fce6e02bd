"""A real mmseg pair, the README way: the shipped PSPNet R-101-D8 -> R-18-D8
configs (MSDCRD or LFCC, plus per-pixel KD) train through the Runner on tiny
Cityscapes-layout data made here, validate, export the student and reload it
with plain mmseg.

Only what tiny data forces is overridden: the data root, the pipelines
(64x64 crops), the preprocessor's pad size, two iterations, and no
ImageNet-pretrained student download. The architectures are the shipped
ones. Skipped, with the reason, without mmsegmentation and full mmcv.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from ecosystem_helpers import (ROOT, kept_global_state, load_export_tool,
                               reload_exported, save_teacher_checkpoint,
                               skip_module_without)

skip_module_without('mmseg')

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import mmkd_contrast  # noqa: E402,F401

CONFIGS = osp.join(ROOT, 'configs', 'mmseg')


@pytest.fixture(autouse=True)
def _kept_global_state():
    with kept_global_state():
        yield


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
            import os
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
    derived = tmp_path / f'{method}_tiny.py'
    derived.write_text(f'''
_base_ = [{shipped!r}]
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
work_dir = {str(tmp_path / 'work')!r}
''')
    cfg = Config.fromfile(str(derived))
    save_teacher_checkpoint(cfg.model, tmp_path / 'teacher.pth')
    return derived, cfg


@pytest.mark.parametrize('method, losses', [
    ('msdcrd', ('kd', 'msdcrd')),
    ('lfcc', ('kd', 'lfcc_stage3', 'lfcc_stage4')),
])
def test_pspnet_pair_trains_validates_exports(tmp_path, method, losses):
    derived, cfg = tiny_config(tmp_path, method)
    assert cfg.default_scope == 'mmseg'
    runner = Runner.from_cfg(cfg)
    distiller = runner.model
    assert type(distiller).__name__ == 'SingleTeacherDistiller'
    # Built in mmseg's registries, not mmpretrain's namesakes.
    assert type(distiller.student.backbone).__module__.startswith('mmseg.')
    assert type(distiller.data_preprocessor).__name__ == \
        'SegDataPreProcessor'
    teacher_before = {
        k: v.clone() for k, v in distiller.teacher.state_dict().items()}
    student_before = {
        k: v.clone() for k, v in distiller.student.state_dict().items()}

    runner.train()

    hub = runner.message_hub
    for name in losses:
        value = hub.get_scalar(f'train/distill.loss_{name}').current()
        assert np.isfinite(value) and value != 0, (name, value)
    assert np.isfinite(hub.get_scalar('train/student.decode.loss_ce')
                       .current())
    for k, v in distiller.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), f'teacher {k} changed'
    assert any(not torch.equal(v, student_before[k])
               for k, v in distiller.student.state_dict().items())

    metrics = runner.val()
    assert 'mIoU' in metrics and 0 <= metrics['mIoU'] <= 100

    out = tmp_path / 'export' / 'student.pth'
    ckpt, cfg_path = load_export_tool().export(
        str(derived), str(tmp_path / 'work' / 'iter_2.pth'), str(out))
    exported_cfg, student = reload_exported(cfg_path, ckpt)
    assert exported_cfg.default_scope == 'mmseg'
    assert 'custom_imports' not in exported_cfg
    assert exported_cfg.model.type == 'mmseg.EncoderDecoder'

    batch = next(iter(runner.val_dataloader))
    trained = distiller.student.eval()
    with torch.no_grad():
        data = trained.data_preprocessor(batch, False)
        expected = trained(data['inputs'], mode='tensor')
        data = student.data_preprocessor(batch, False)
        got = student(data['inputs'], mode='tensor')
    assert expected.shape == got.shape and expected.shape[1] == 19
    torch.testing.assert_close(got, expected)
