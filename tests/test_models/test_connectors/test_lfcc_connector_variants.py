"""The per-channel learnable low-pass filter and the projector's cheap
order of operations (pooling before its last 1x1 convolution)."""
import pytest
import torch
import torch.nn.functional as F

from mmkd_contrast.models import (CompactProjector, LearnableLowPassFilter,
                                  LowPassFilter)
from mmkd_contrast.registry import MODELS


def fixed_components(x, kernel_sizes):
    """``[x, L_k(x) for k]`` written out from the definition."""
    h, w = x.shape[-2:]
    out = [x]
    for k in kernel_sizes:
        pooled = F.avg_pool2d(x, k, stride=k, ceil_mode=True)
        out.append(
            F.interpolate(
                pooled, size=(h, w), mode='bilinear', align_corners=False))
    return out


def per_channel_reference(x, kernel_sizes, weight, bias):
    """Loop reference: output channel c is a 3x3 filter (zero padding) over
    channel c of each component, plus its bias."""
    comps = fixed_components(x.double(), kernel_sizes)
    b, c, h, w = x.shape
    out = torch.zeros(b, c, h, w, dtype=torch.float64)
    for n in range(b):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    total = float(bias[ch].detach())
                    for m, comp in enumerate(comps):
                        for di in range(3):
                            for dj in range(3):
                                y, z = i + di - 1, j + dj - 1
                                if 0 <= y < h and 0 <= z < w:
                                    w_ij = weight[ch, m, di, dj].detach()
                                    total += float(w_ij) * \
                                        float(comp[n, ch, y, z])
                    out[n, ch, i, j] = total
    return out


@pytest.mark.parametrize('kernel_sizes,shape', [((2, 4), (2, 3, 8, 8)),
                                                ((2, 3), (1, 2, 5, 7)),
                                                ((2, ), (2, 4, 4, 4))])
def test_per_channel_equals_fixed_at_init(kernel_sizes, shape):
    torch.manual_seed(0)
    x = torch.randn(*shape)
    learnable = LearnableLowPassFilter(
        shape[1], kernel_sizes, per_channel=True)
    assert learnable.conv.weight.shape == (shape[1], 1 + len(kernel_sizes),
                                           3, 3)
    torch.testing.assert_close(
        learnable(x), LowPassFilter(kernel_sizes)(x), rtol=0, atol=1e-6)


def test_per_channel_matches_loop_reference_with_random_weights():
    torch.manual_seed(0)
    learnable = LearnableLowPassFilter(3, (2, 4), per_channel=True)
    with torch.no_grad():
        learnable.conv.weight.normal_()
        learnable.conv.bias.normal_()
    x = torch.randn(2, 3, 6, 5)
    expected = per_channel_reference(x, (2, 4), learnable.conv.weight,
                                     learnable.conv.bias)
    torch.testing.assert_close(
        learnable(x).double(), expected, rtol=0, atol=1e-5)


def test_per_channel_does_not_mix_channels_but_dense_does():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 8, 8)
    x_changed = x.clone()
    x_changed[:, 1] += 1.0
    for per_channel, mixes in ((True, False), (False, True)):
        learnable = LearnableLowPassFilter(3, per_channel=per_channel)
        with torch.no_grad():
            learnable.conv.weight.normal_()
            changed = (learnable(x_changed) - learnable(x))[:, 0]
        assert bool(changed.abs().max() > 1e-4) is mixes


def test_per_channel_trains_and_init_weights_restores():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    learnable = MODELS.build(
        dict(type='LearnableLowPassFilter', in_channels=3, per_channel=True))
    assert 'per_channel=True' in repr(learnable)
    ((learnable(x) - torch.randn_like(x))**2).mean().backward()
    assert learnable.conv.weight.grad.abs().sum() > 0
    torch.optim.SGD(learnable.parameters(), lr=0.1).step()
    with torch.no_grad():
        assert (learnable(x) - LowPassFilter()(x)).abs().max() > 1e-3
        learnable.init_weights()
        torch.testing.assert_close(
            learnable(x), LowPassFilter()(x), rtol=0, atol=1e-6)


def test_per_channel_costs_c_times_fewer_weights():
    dense = LearnableLowPassFilter(64)
    cheap = LearnableLowPassFilter(64, per_channel=True)
    assert dense.conv.weight.numel() == 64 * cheap.conv.weight.numel()


@pytest.mark.parametrize('shape,grid', [((3, 6, 7, 7), 2), ((3, 6, 5, 3), 3),
                                        ((2, 6, 1, 1), 2)])
def test_projector_pooling_first_equals_pooling_last(shape, grid):
    """Pooling the hidden map before the last 1x1 convolution gives what
    the written order (convolution, then pooling) gives, including
    overlapping adaptive cells (7 -> 2) and a grid larger than the map."""
    torch.manual_seed(0)
    proj = CompactProjector(in_channels=6, out_channels=5, grid=grid)
    with torch.no_grad():
        proj.proj[3].bias.normal_()
    x = torch.randn(*shape)
    written_order = F.adaptive_avg_pool2d(proj.proj(x), grid)
    expected = F.normalize(written_order.flatten(1), dim=1)
    torch.testing.assert_close(proj(x), expected, rtol=0, atol=1e-6)
