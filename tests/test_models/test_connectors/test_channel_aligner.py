import pytest
import torch

from mmkd_contrast.models import ChannelAligner
from mmkd_contrast.registry import MODELS


def test_channel_aligner_maps_channels_and_keeps_size():
    torch.manual_seed(0)
    aligner = MODELS.build(
        dict(type='ChannelAligner', in_channels=3, out_channels=8))
    assert isinstance(aligner, ChannelAligner)
    out = aligner(torch.randn(4, 3, 5, 6))
    assert out.shape == (4, 8, 5, 6)
    # BatchNorm in training mode: per-channel batch statistics are 0 and 1.
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(8), atol=1e-5)


def test_channel_aligner_is_conv_then_bn():
    torch.manual_seed(0)
    aligner = ChannelAligner(3, 2).eval()
    with torch.no_grad():
        aligner.bn.running_mean.copy_(torch.tensor([0.5, -1.]))
        aligner.bn.running_var.copy_(torch.tensor([4., 0.25]))
        aligner.bn.weight.copy_(torch.tensor([2., 3.]))
        aligner.bn.bias.copy_(torch.tensor([0.1, 0.2]))
    x = torch.randn(2, 3, 4, 4)
    weight = aligner.conv.weight[:, :, 0, 0]
    expected = torch.zeros(2, 2, 4, 4)
    for o in range(2):
        conv = sum(weight[o, c] * x[:, c] for c in range(3))
        normed = (conv - aligner.bn.running_mean[o]) / torch.sqrt(
            aligner.bn.running_var[o] + aligner.bn.eps)
        expected[:, o] = aligner.bn.weight[o] * normed + aligner.bn.bias[o]
    assert torch.allclose(aligner(x), expected, atol=1e-5)


def test_channel_aligner_wrong_channels_names_both():
    aligner = ChannelAligner(3, 8)
    with pytest.raises(ValueError, match=r'in_channels=3.*\(2, 5, 4, 4\)'):
        aligner(torch.randn(2, 5, 4, 4))


@pytest.mark.parametrize('channels', [(0, 4), (4, -1), (2.5, 4)])
def test_channel_aligner_bad_channels_raise(channels):
    with pytest.raises(ValueError, match='channels'):
        ChannelAligner(*channels)


def test_channel_aligner_init_cfg_and_gradients():
    aligner = ChannelAligner(
        3, 4, init_cfg=dict(type='Constant', layer='Conv2d', val=0.5))
    aligner.init_weights()
    assert torch.equal(aligner.conv.weight, torch.full((4, 3, 1, 1), 0.5))
    aligner(torch.randn(2, 3, 4, 4)).pow(2).mul(
        torch.arange(4.).view(1, 4, 1, 1)).sum().backward()
    for param in aligner.parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0
