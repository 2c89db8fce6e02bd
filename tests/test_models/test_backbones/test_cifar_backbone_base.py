"""Behaviour shared by the whole CIFAR backbone zoo.

Parameter counts, stage shapes for 32x32 inputs, ``out_indices`` /
``frozen_stages`` / ``norm_eval`` handling, registry names and arch errors.
"""
import pytest
import torch
import torch.nn as nn
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from mmkd_contrast.models.backbones import (CIFARMobileNetV2, CIFARResNet,
                                            CIFARShuffleNetV1,
                                            CIFARShuffleNetV2, CIFARVGG,
                                            CIFARWideResNet)
from mmkd_contrast.registry import MODELS

ZOO_NAMES = [
    'CIFARResNet', 'CIFARWideResNet', 'CIFARVGG', 'CIFARMobileNetV2',
    'CIFARShuffleNetV1', 'CIFARShuffleNetV2'
]


def params_with_linear_head(backbone, num_classes=100):
    """Backbone parameters plus those of ``Linear(last_channels, 100)``."""
    last = backbone.out_channels[-1]
    head = last * num_classes + num_classes
    return sum(p.numel() for p in backbone.parameters()) + head


# Published sizes (millions, 100 classes) of the benchmark's models.
PUBLISHED_PARAMS = [
    (CIFARResNet, dict(arch='resnet8x4'), 1.23),
    (CIFARResNet, dict(arch='resnet32x4'), 7.43),
    (CIFARResNet, dict(arch='resnet56'), 0.86),
    (CIFARResNet, dict(arch='resnet20'), 0.28),
    (CIFARResNet, dict(arch='resnet110'), 1.74),
    (CIFARResNet, dict(arch='ResNet50'), 23.71),
    (CIFARWideResNet, dict(arch='wrn_40_2'), 2.25),
    (CIFARWideResNet, dict(arch='wrn_16_2'), 0.70),
    (CIFARVGG, dict(arch='vgg13'), 9.46),
    (CIFARVGG, dict(arch='vgg8'), 3.96),
    (CIFARMobileNetV2, dict(), 0.81),
    (CIFARShuffleNetV1, dict(), 0.95),
    (CIFARShuffleNetV2, dict(), 1.36),
]


@pytest.mark.parametrize('cls,kwargs,millions', PUBLISHED_PARAMS)
def test_parameter_count_matches_published(cls, kwargs, millions):
    count = params_with_linear_head(cls(**kwargs)) / 1e6
    assert abs(count - millions) / millions < 0.02, (kwargs, count)


# (class, kwargs, expected (channels, height) of every stage for 32x32)
STAGE_SHAPES = [
    (CIFARResNet, dict(arch='resnet8'), [(16, 32), (32, 16), (64, 8)]),
    (CIFARResNet, dict(arch='resnet20'), [(16, 32), (32, 16), (64, 8)]),
    (CIFARResNet, dict(arch='resnet8x4'), [(64, 32), (128, 16), (256, 8)]),
    (CIFARResNet, dict(arch='resnet32x4'), [(64, 32), (128, 16), (256, 8)]),
    (CIFARResNet, dict(arch='ResNet50'), [(256, 32), (512, 16), (1024, 8),
                                          (2048, 4)]),
    (CIFARWideResNet, dict(arch='wrn_16_1'), [(16, 32), (32, 16), (64, 8)]),
    (CIFARWideResNet, dict(arch='wrn_40_2'), [(32, 32), (64, 16), (128, 8)]),
    (CIFARVGG, dict(arch='vgg8'), [(64, 32), (128, 16), (256, 8), (512, 4),
                                   (512, 4)]),
    (CIFARVGG, dict(arch='vgg13'), [(64, 32), (128, 16), (256, 8), (512, 4),
                                    (512, 4)]),
    (CIFARMobileNetV2, dict(), [(8, 16), (12, 16), (16, 8), (32, 4), (48, 4),
                                (80, 2), (160, 2), (1280, 2)]),
    (CIFARShuffleNetV1, dict(), [(240, 16), (480, 8), (960, 4)]),
    (CIFARShuffleNetV2, dict(), [(116, 16), (232, 8), (464, 4), (1024, 4)]),
]


@pytest.mark.parametrize('cls,kwargs,stages', STAGE_SHAPES)
def test_every_stage_output_shape(cls, kwargs, stages):
    indices = tuple(range(len(stages)))
    model = cls(out_indices=indices, **kwargs)
    assert list(model.out_channels) == [c for c, _ in stages]
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 32, 32))
    assert isinstance(outs, tuple)
    assert [tuple(o.shape) for o in outs] == [(2, c, h, h)
                                              for c, h in stages]


@pytest.mark.parametrize('cls,kwargs,stages', STAGE_SHAPES[:1] +
                         STAGE_SHAPES[5:6] + STAGE_SHAPES[7:8] +
                         STAGE_SHAPES[9:])
def test_default_returns_last_stage_only(cls, kwargs, stages):
    model = cls(**kwargs)
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 32, 32))
    channels, height = stages[-1]
    assert len(outs) == 1
    assert tuple(outs[0].shape) == (2, channels, height, height)


def test_out_indices_negative_and_unsorted():
    model = CIFARResNet(arch='resnet8', out_indices=(-1, 0))
    assert model.out_indices == (0, 2)
    outs = model(torch.rand(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [16, 64]


@pytest.mark.parametrize('bad', [3, -4, (0, 5), (), (1, -2), 'last'])
def test_out_indices_invalid(bad):
    with pytest.raises(ValueError, match='out_indices'):
        CIFARResNet(arch='resnet8', out_indices=bad)


@pytest.mark.parametrize('bad', [-2, 4, 1.5])
def test_frozen_stages_invalid(bad):
    with pytest.raises(ValueError, match='frozen_stages'):
        CIFARResNet(arch='resnet8', frozen_stages=bad)


@pytest.mark.parametrize('cls,kwargs,stem,frozen,trainable', [
    (CIFARResNet, dict(arch='resnet8'), ['conv1', 'bn1'], ['layer1'],
     ['layer2', 'layer3']),
    (CIFARWideResNet, dict(arch='wrn_16_1'), ['conv1'], ['block1'],
     ['block2', 'block3', 'bn1']),
    (CIFARVGG, dict(arch='vgg8'), [], ['block0'], ['block1', 'block4']),
    (CIFARMobileNetV2, dict(), ['conv1'], ['blocks.0'],
     ['blocks.1', 'conv2']),
    (CIFARShuffleNetV1, dict(), ['conv1', 'bn1'], ['layer1'],
     ['layer2', 'layer3']),
    (CIFARShuffleNetV2, dict(), ['conv1', 'bn1'], ['layer1'],
     ['layer3', 'conv2', 'bn2']),
])
def test_frozen_stages_freeze_stem_and_first_stages(cls, kwargs, stem, frozen,
                                                    trainable):
    model = cls(frozen_stages=1, **kwargs)
    model.train()
    for path in stem + frozen:
        module = model.get_submodule(path)
        assert all(not p.requires_grad for p in module.parameters()), path
        assert not module.training, path
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm2d):
                assert not sub.training, path
    for path in trainable:
        module = model.get_submodule(path)
        assert all(p.requires_grad for p in module.parameters()), path
        assert module.training, path


def test_frozen_stem_only_and_frozen_statistics_do_not_move():
    model = CIFARResNet(arch='resnet8', frozen_stages=0)
    model.train()
    assert not model.conv1.weight.requires_grad
    assert model.layer1[0].conv1.weight.requires_grad
    before = model.bn1.running_mean.clone()
    model(torch.rand(2, 3, 32, 32) * 5)
    assert torch.equal(model.bn1.running_mean, before)
    assert not torch.equal(model.layer1[0].bn1.running_mean,
                           torch.zeros_like(before))


def test_norm_eval_keeps_batchnorm_in_eval():
    model = CIFARWideResNet(arch='wrn_16_1', norm_eval=True)
    model.train()
    assert model.training
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    assert all(p.requires_grad for p in model.parameters())
    plain = CIFARWideResNet(arch='wrn_16_1')
    plain.train()
    assert all(m.training for m in plain.modules()
               if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize('cls,kwargs,option', [
    (CIFARResNet, dict(arch='resnet18'), 'resnet8x4'),
    (CIFARResNet, dict(arch='resnet50'), 'ResNet50'),
    (CIFARWideResNet, dict(arch='wrn_28_10'), 'wrn_40_2'),
    (CIFARVGG, dict(arch='vgg13_bn'), 'vgg13'),
    (CIFARShuffleNetV2, dict(widen_factor=0.7), '1.0'),
])
def test_unknown_arch_lists_valid_ones(cls, kwargs, option):
    with pytest.raises(ValueError, match='unknown') as info:
        cls(**kwargs)
    assert option in str(info.value)


def test_registered_in_our_registry_not_in_mmpretrains():
    for name in ZOO_NAMES:
        assert name in MODELS.module_dict
        assert name not in MMPRETRAIN_MODELS.module_dict
    for name, cls in MMPRETRAIN_MODELS.module_dict.items():
        assert cls.__module__.split('.')[0] != 'mmkd_contrast', name


def test_build_from_config_dict():
    model = MODELS.build(
        dict(type='CIFARWideResNet', arch='wrn_16_2', out_indices=(0, 2)))
    assert isinstance(model, CIFARWideResNet)
    assert model.out_indices == (0, 2)
    assert model.out_channels == (32, 64, 128)
