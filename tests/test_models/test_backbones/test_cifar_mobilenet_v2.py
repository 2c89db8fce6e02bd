import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARMobileNetV2
from mmkd_contrast.models.backbones.cifar_mobilenet_v2 import \
    CIFARInvertedResidual


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


@pytest.mark.parametrize('in_channels,out_channels,stride,residual',
                         [(4, 4, 1, True), (4, 6, 1, False),
                          (4, 4, 2, False)])
def test_inverted_residual_matches_functional_reference(
        in_channels, out_channels, stride, residual):
    block = CIFARInvertedResidual(in_channels, out_channels, stride, 3)
    _randomize(block)
    conv = block.conv
    x = torch.randn(2, in_channels, 8, 8)
    hidden = in_channels * 3
    out = F.relu(_bn(F.conv2d(x, conv[0].weight), conv[1]))
    out = F.relu(
        _bn(
            F.conv2d(
                out, conv[3].weight, stride=stride, padding=1,
                groups=hidden), conv[4]))
    out = _bn(F.conv2d(out, conv[6].weight), conv[7])
    if residual:
        out = out + x
    assert torch.allclose(block(x), out, atol=1e-5)


def test_layout_widths_and_checkpoint_keys():
    model = CIFARMobileNetV2()
    assert model.conv1[0].stride == (2, 2)
    assert model.conv1[0].out_channels == 16
    assert [len(group) for group in model.blocks] == [1, 2, 3, 4, 3, 3, 1]
    # the first group keeps its (ratio 1) expansion convolution
    assert model.blocks[0][0].conv[0].out_channels == 16
    assert model.blocks[1][0].conv[0].out_channels == 8 * 6
    keys = set(model.state_dict())
    for key in [
            'conv1.0.weight', 'conv1.1.running_mean',
            'blocks.0.0.conv.0.weight',
            'blocks.3.3.conv.7.bias', 'blocks.6.0.conv.6.weight',
            'conv2.0.weight', 'conv2.1.weight'
    ]:
        assert key in keys, key
    assert model.conv2[0].in_channels == 160
    assert model.out_channels[-1] == 1280


def test_widen_factor_and_expand_ratio_are_exposed():
    model = CIFARMobileNetV2(widen_factor=1.0, expand_ratio=4)
    assert model.out_channels == (16, 24, 32, 64, 96, 160, 320, 1280)
    assert model.blocks[2][0].conv[0].out_channels == 24 * 4
    wide = CIFARMobileNetV2(widen_factor=1.5)
    assert wide.out_channels[-1] == 1920


@pytest.mark.parametrize('kwargs', [dict(widen_factor=0),
                                    dict(expand_ratio=0),
                                    dict(expand_ratio=2.5)])
def test_invalid_options(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CIFARMobileNetV2(**kwargs)


def test_last_stage_is_post_relu_conv2():
    model = CIFARMobileNetV2(out_indices=(6, 7))
    outs = model(torch.randn(1, 3, 32, 32))
    assert outs[0].min() < 0  # linear bottleneck output
    assert outs[1].min() >= 0
    assert isinstance(model.conv2[2], nn.ReLU)
