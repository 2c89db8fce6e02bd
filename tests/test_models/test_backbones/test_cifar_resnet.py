import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.structures import DataSample

from mmkd_contrast.models.backbones import CIFARResNet
from mmkd_contrast.models.backbones.cifar_resnet import (CIFARBasicBlock,
                                                         CIFARBottleneck)
from mmkd_contrast.registry import MODELS


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight,
                        bn.bias, False, 0.0, bn.eps)


def _randomize(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.uniform_(-0.5, 0.5)
    module.eval()


def test_basic_block_matches_functional_reference():
    block = CIFARBasicBlock(4, 6, stride=2)
    _randomize(block)
    x = torch.randn(2, 4, 8, 8)
    out = F.relu(_bn(F.conv2d(x, block.conv1.weight, stride=2, padding=1),
                     block.bn1))
    out = _bn(F.conv2d(out, block.conv2.weight, padding=1), block.bn2)
    short = _bn(F.conv2d(x, block.downsample[0].weight, stride=2),
                block.downsample[1])
    expected = F.relu(out + short)
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_basic_block_identity_shortcut():
    block = CIFARBasicBlock(5, 5)
    assert block.downsample is None
    _randomize(block)
    x = torch.randn(1, 5, 4, 4)
    out = F.relu(_bn(F.conv2d(x, block.conv1.weight, padding=1), block.bn1))
    out = _bn(F.conv2d(out, block.conv2.weight, padding=1), block.bn2)
    assert torch.allclose(block(x), F.relu(out + x), atol=1e-5)


def test_bottleneck_matches_functional_reference():
    block = CIFARBottleneck(8, 3, stride=2)
    _randomize(block)
    x = torch.randn(2, 8, 6, 6)
    out = F.relu(_bn(F.conv2d(x, block.conv1.weight), block.bn1))
    out = F.relu(_bn(F.conv2d(out, block.conv2.weight, stride=2, padding=1),
                     block.bn2))
    out = _bn(F.conv2d(out, block.conv3.weight), block.bn3)
    short = _bn(F.conv2d(x, block.shortcut[0].weight, stride=2),
                block.shortcut[1])
    assert torch.allclose(block(x), F.relu(out + short), atol=1e-5)
    same = CIFARBottleneck(12, 3)
    assert len(same.shortcut) == 0


def test_checkpoint_key_layout():
    keys = set(CIFARResNet(arch='resnet8x4').state_dict())
    # stem 32 -> stage 64 changes width, so stage 0 has a projection too
    for key in [
            'conv1.weight', 'bn1.running_mean', 'layer1.0.conv1.weight',
            'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.weight',
            'layer3.0.bn2.bias', 'layer3.0.downsample.0.weight'
    ]:
        assert key in keys, key
    assert not any(k.endswith('downsample.0.bias') for k in keys)
    keys20 = set(CIFARResNet(arch='resnet20').state_dict())
    assert 'layer1.2.conv2.weight' in keys20
    assert not any(k.startswith('layer1.0.downsample') for k in keys20)
    assert 'layer2.0.downsample.0.weight' in keys20
    keys50 = set(CIFARResNet(arch='ResNet50').state_dict())
    assert 'layer1.0.shortcut.0.weight' in keys50
    assert 'layer4.2.conv3.weight' in keys50
    assert not any(k.startswith('layer1.1.shortcut') for k in keys50)


def test_stem_and_stage_strides():
    model = CIFARResNet(arch='resnet32x4')
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert len(model.layer1) == 5
    assert [model.get_submodule(f'layer{i}')[0].conv1.stride
            for i in (1, 2, 3)] == [(1, 1), (2, 2), (2, 2)]


def test_stage_outputs_are_post_relu():
    outs = CIFARResNet(arch='resnet8', out_indices=(0, 1, 2))(
        torch.randn(2, 3, 32, 32))
    assert all(o.min() >= 0 for o in outs)


def _classifier_cfg(backbone_type):
    return dict(
        type='ImageClassifier',
        backbone=dict(type=backbone_type, arch='resnet8x4'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=256,
            loss=dict(type='CrossEntropyLoss')))


def _check_forward_backward(model):
    model.init_weights()
    images = torch.rand(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(3), DataSample().set_gt_label(7)]
    losses = model(images, samples, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grad = model.backbone.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model(images, mode='tensor').shape == (2, 10)


def test_image_classifier_from_mmpretrain_registry_with_scoped_type():
    model = MMPRETRAIN_MODELS.build(
        _classifier_cfg('mmkd_contrast.CIFARResNet'))
    assert isinstance(model.backbone, CIFARResNet)
    _check_forward_backward(model)


def test_image_classifier_from_our_registry_under_our_scope():
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        model = MODELS.build(_classifier_cfg('CIFARResNet'))
    assert isinstance(model.backbone, CIFARResNet)
    _check_forward_backward(model)
