"""MSDCRD end to end: the distiller built from the MSDCRD configs."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample
from tool_helpers import ROOT, last_scalars, train

from mmkd_contrast.models import ChannelAligner, MSDCRDLoss
from mmkd_contrast.utils import build_in_scope

QUICKSTART_CFG = osp.join(ROOT, 'configs', 'quickstart',
                          'msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
MSDCRD_CFGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'msdcrd', '*.py')))
CIFAR_PAIRS = {
    'resnet32x4_resnet8x4', 'wrn-40-2_wrn-16-2', 'wrn-40-2_wrn-40-1',
    'resnet56_resnet20', 'resnet110_resnet32', 'vgg13_vgg8',
    'vgg13_mobilenetv2', 'resnet50_mobilenetv2', 'resnet32x4_shufflenetv1',
    'resnet32x4_shufflenetv2'
}


def load_cfg(path):
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = None
    return cfg


def build(cfg):
    torch.manual_seed(0)
    return build_in_scope(cfg.model).train()


def batch(n, channels=1, size=28, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, channels, size, size, generator=gen)
    samples = [
        DataSample(metainfo=dict(sample_idx=i)).set_gt_label(i % 10)
        for i in range(n)
    ]
    return inputs, samples


def test_config_list_covers_the_issue_pairs():
    names = {osp.basename(p) for p in MSDCRD_CFGS}
    for pair in CIFAR_PAIRS:
        assert f'msdcrd_{pair}_1xb64_cifar100.py' in names, pair
    assert 'msdcrd_resnet34_resnet18_8xb32_in1k.py' in names


def test_gradients_reach_student_and_aligner_not_teacher():
    model = build(load_cfg(QUICKSTART_CFG))
    aligner = model.connectors['s_align']
    assert isinstance(aligner, ChannelAligner)
    # The aligner is trained with the student but is not part of it.
    student_params = {id(p) for p in model.student.parameters()}
    assert not any(id(p) in student_params for p in aligner.parameters())

    inputs, samples = batch(4)
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'student.loss', 'distill.loss_msdcrd'}
    losses['distill.loss_msdcrd'].backward()

    for name, param in model.student.backbone.named_parameters():
        assert param.grad is not None, name
    assert any(p.grad.abs().sum() > 0
               for p in model.student.backbone.parameters())
    for name, param in aligner.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    # The classifier head is reached by the CE only, not by L_MSD.
    assert all(p.grad is None for p in model.student.head.parameters())
    for name, param in model.teacher.named_parameters():
        assert not param.requires_grad and param.grad is None, name


def test_full_loss_leaves_teacher_untouched():
    model = build(load_cfg(QUICKSTART_CFG))
    before = {
        k: v.clone()
        for k, v in model.teacher.state_dict().items()
    }
    inputs, samples = batch(4)
    sum(model(inputs, samples, mode='loss').values()).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    # The teacher stays in eval mode: its BN statistics do not move.
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_channels_differ_without_aligner_names_both_counts():
    cfg = load_cfg(QUICKSTART_CFG)
    cfg.model.connectors = {}
    cfg.model.loss_inputs.msdcrd.s_feat = 'student.feat'
    model = build(cfg)
    inputs, samples = batch(4)
    with pytest.raises(ValueError) as info:
        model(inputs, samples, mode='loss')
    message = str(info.value)
    assert "distill loss 'msdcrd'" in message
    assert "tap 'student.feat'" in message
    assert 'has 32 channels' in message and 'has 128' in message
    assert 'ChannelAligner' in message
    assert 'in_channels=32, out_channels=128' in message


def test_batch_of_one_image_fails_at_first_batch():
    model = build(load_cfg(QUICKSTART_CFG))
    inputs, samples = batch(1)
    with pytest.raises(ValueError) as info:
        model(inputs, samples, mode='loss')
    message = str(info.value)
    assert "distill loss 'msdcrd'" in message
    assert 'global batch of 1 image' in message
    assert 'at least 2 images' in message


def _input_for(path):
    if 'mnist' in path:
        return batch(2)
    # ImageNet at 112x112 keeps the test fast and leaves 4x4 last maps.
    size = 112 if 'in1k' in path else 32
    return batch(2, channels=3, size=size)


@pytest.mark.parametrize(
    'path', MSDCRD_CFGS + [QUICKSTART_CFG], ids=osp.basename)
def test_every_msdcrd_config_builds_and_runs(path):
    cfg = load_cfg(path)
    model = build(cfg)
    msd_losses = {
        name: loss
        for name, loss in model.distill_losses.items()
        if isinstance(loss, MSDCRDLoss)
    }
    assert 'msdcrd' in msd_losses
    # Every loss entry gets its own aligner where channels differ.
    aligners = [
        model.loss_inputs[name]['s_feat']['connector'] for name in msd_losses
    ]
    named = [a for a in aligners if a is not None]
    assert len(named) == len(set(named))

    inputs, samples = _input_for(path)
    losses = model(inputs, samples, mode='loss')
    assert {f'distill.loss_{n}' for n in msd_losses} <= set(losses)
    for key, value in losses.items():
        assert torch.isfinite(value), key
    sum(losses.values()).backward()
    for name in named:
        assert model.connectors[name].conv.weight.grad is not None, name

    lr = cfg.optim_wrapper.optimizer.lr
    if 'mobilenetv2' in path or 'shufflenet' in path:
        assert lr == 0.01
    elif 'cifar100' in path:
        assert lr == 0.05


def test_multi_stage_config_has_one_aligner_and_loss_per_stage():
    path = osp.join(ROOT, 'configs', 'msdcrd',
                    'msdcrd_wrn-40-2_wrn-40-1_1xb64-3stages_cifar100.py')
    model = build(load_cfg(path))
    assert set(model.distill_losses) == {
        'msdcrd', 'msdcrd_block1', 'msdcrd_block2'
    }
    channels = {
        name: (model.connectors[src['s_feat']['connector']].in_channels,
               model.connectors[src['s_feat']['connector']].out_channels)
        for name, src in model.loss_inputs.items()
    }
    assert channels == {
        'msdcrd_block1': (16, 32),
        'msdcrd_block2': (32, 64),
        'msdcrd': (64, 128)
    }


def test_imagenet_config_uses_mmpretrain_resnets():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'msdcrd',
                 'msdcrd_resnet34_resnet18_8xb32_in1k.py'))
    assert cfg.model.teacher.backbone.type == 'ResNet'
    assert cfg.model.teacher.backbone.depth == 34
    assert cfg.model.student.backbone.depth == 18
    assert cfg.model.teacher_ckpt.startswith('checkpoints/')
    assert cfg.train_dataloader.batch_size == 32


def test_one_epoch_quickstart_run(tmp_path, quickstart_teacher_ckpt):
    train(QUICKSTART_CFG, tmp_path,
          f'model.teacher_ckpt={quickstart_teacher_ckpt}')
    assert osp.isfile(tmp_path / 'epoch_1.pth')
    values = [
        r['distill.loss_msdcrd'] for r in last_scalars(tmp_path)
        if 'distill.loss_msdcrd' in r
    ]
    assert values and all(math.isfinite(v) for v in values)
    # Three InfoNCE terms over 64 images / 4 and 16 regions start near
    # log(64) + (log(4) + log(16)) / 2; training must not blow it up.
    assert 0 < values[-1] < 10
