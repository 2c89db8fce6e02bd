import math

import pytest
import torch

from mmkd_contrast.models import LearnableLowPassFilter, LowPassFilter
from mmkd_contrast.registry import MODELS


def reference_pool_ceil(x, k):
    """Average over k x k windows with stride k; the trailing partial window
    averages only the pixels inside the map."""
    b, c, h, w = x.shape
    out_h, out_w = math.ceil(h / k), math.ceil(w / k)
    out = torch.zeros(b, c, out_h, out_w, dtype=torch.float64)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * k:min((i + 1) * k, h),
                       j * k:min((j + 1) * k, w)]
            out[:, :, i, j] = window.double().sum(dim=(2, 3)) / (
                window.shape[2] * window.shape[3])
    return out


def reference_bilinear(x, h, w):
    """Bilinear resize with half-pixel centres (align_corners=False)."""
    b, c, in_h, in_w = x.shape

    def taps(dst, in_size, out_size):
        src = max((dst + 0.5) * in_size / out_size - 0.5, 0.0)
        i0 = min(int(math.floor(src)), in_size - 1)
        i1 = min(i0 + 1, in_size - 1)
        return i0, i1, src - i0

    out = torch.zeros(b, c, h, w, dtype=torch.float64)
    for r in range(h):
        r0, r1, fr = taps(r, in_h, h)
        for q in range(w):
            q0, q1, fq = taps(q, in_w, w)
            out[:, :, r, q] = ((1 - fr) * (1 - fq) * x[:, :, r0, q0] +
                               (1 - fr) * fq * x[:, :, r0, q1] +
                               fr * (1 - fq) * x[:, :, r1, q0] +
                               fr * fq * x[:, :, r1, q1])
    return out


def reference_low_pass(x, kernel_sizes):
    h, w = x.shape[-2:]
    parts = [
        reference_bilinear(reference_pool_ceil(x, k), h, w)
        for k in kernel_sizes
    ]
    return sum(parts) / len(parts)


def checkerboard(h, w, channels=2):
    rows = torch.arange(h).view(h, 1)
    cols = torch.arange(w).view(1, w)
    board = ((rows + cols) % 2 * -2 + 1).float()  # (-1) ** (r + c)
    return board.expand(1, channels, h, w).clone()


@pytest.mark.parametrize('shape,kernel_sizes',
                         [((2, 3, 8, 8), (2, 4)), ((1, 2, 7, 6), (2, 4)),
                          ((1, 2, 5, 9), (3, )), ((1, 1, 6, 6), (2, 3, 4))])
def test_matches_loop_reference(shape, kernel_sizes):
    torch.manual_seed(0)
    x = torch.randn(shape)
    out = LowPassFilter(kernel_sizes)(x)
    assert out.shape == x.shape
    torch.testing.assert_close(
        out.double(), reference_low_pass(x, kernel_sizes), rtol=0, atol=1e-5)


@pytest.mark.parametrize('size', [(8, 8), (7, 5), (4, 12)])
def test_constant_passes_unchanged(size):
    x = torch.full((2, 3, *size), 0.0)
    x[:, 0], x[:, 1], x[:, 2] = 1.5, -2.0, 7.25
    torch.testing.assert_close(LowPassFilter()(x), x, rtol=0, atol=1e-6)
    torch.testing.assert_close(
        LearnableLowPassFilter(3)(x), x, rtol=0, atol=1e-6)


@pytest.mark.parametrize('size', [(8, 8), (4, 12), (16, 8)])
def test_checkerboard_removed_when_kernels_divide_the_map(size):
    # Every window of an even kernel covers as many +1 as -1 pixels.
    x = checkerboard(*size)
    assert x[0, 0, 0, 0] == 1 and x[0, 0, 0, 1] == -1 and x[0, 0, 1, 1] == 1
    out = LowPassFilter((2, 4))(x)
    assert out.abs().max() < 1e-6
    assert LearnableLowPassFilter(2, (2, 4))(x).abs().max() < 1e-6


def test_checkerboard_on_non_divisible_maps():
    # 5 x 5 with k = 2: the partial windows are 2 x 1, 1 x 2 (they cancel)
    # and the 1 x 1 corner, which keeps its +1; upsampling spreads it over
    # the neighbouring pixels only.
    out = LowPassFilter((2, ))(checkerboard(5, 5))
    torch.testing.assert_close(
        out[0, 0, 4, 4], torch.tensor(1.0), rtol=0, atol=1e-6)
    assert out[..., :3, :].abs().max() < 1e-6
    assert out[..., :, :3].abs().max() < 1e-6
    # 6 x 6 with k = 4: the partial windows hold 4 x 2, 2 x 4 and 2 x 2
    # pixels, which still cancel.
    assert LowPassFilter((4, ))(checkerboard(6, 6)).abs().max() < 1e-6


def test_kernel_larger_than_map_raises():
    with pytest.raises(ValueError, match='kernel size 4.*3x5'):
        LowPassFilter((2, 4))(torch.randn(1, 2, 3, 5))
    with pytest.raises(ValueError, match='kernel size 4.*5x3'):
        LearnableLowPassFilter(2, (2, 4))(torch.randn(1, 2, 5, 3))


def test_bad_arguments_and_inputs_raise():
    with pytest.raises(ValueError, match='kernel_sizes'):
        LowPassFilter(())
    with pytest.raises(ValueError, match='kernel_sizes'):
        LearnableLowPassFilter(4, (2, 0))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\).*TokenToMap'):
        LowPassFilter()(torch.randn(2, 16, 8))
    with pytest.raises(ValueError, match='expects 4 input channels, got 3'):
        LearnableLowPassFilter(4)(torch.randn(1, 3, 8, 8))


@pytest.mark.parametrize('kernel_sizes', [(2, 4), (2, 3, 4), (2, )])
def test_learnable_equals_fixed_at_init(kernel_sizes):
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8, 12)
    learnable = LearnableLowPassFilter(5, kernel_sizes)
    torch.testing.assert_close(
        learnable(x), LowPassFilter(kernel_sizes)(x), rtol=1e-6, atol=1e-6)
    weight = learnable.conv.weight
    assert weight.shape == (5, 5 * (1 + len(kernel_sizes)), 3, 3)
    # Only the centre taps of the filtered blocks are non-zero.
    assert weight[:, :5].abs().sum() == 0
    assert weight[..., 0, :].abs().sum() == 0
    assert learnable.conv.bias.abs().sum() == 0


def test_learnable_changes_after_a_step_and_init_weights_restores():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 8)
    learnable = LearnableLowPassFilter(3)
    fixed = LowPassFilter()(x)
    optimizer = torch.optim.SGD(learnable.parameters(), lr=0.1)
    target = torch.randn_like(x)
    loss = ((learnable(x) - target)**2).mean()
    loss.backward()
    assert learnable.conv.weight.grad.abs().sum() > 0
    optimizer.step()
    with torch.no_grad():
        assert (learnable(x) - fixed).abs().max() > 1e-3
        learnable.init_weights()
        torch.testing.assert_close(
            learnable(x), fixed, rtol=1e-6, atol=1e-6)


def test_registered():
    fixed = MODELS.build(dict(type='LowPassFilter', kernel_sizes=(2, )))
    learnable = MODELS.build(
        dict(type='LearnableLowPassFilter', in_channels=3))
    assert isinstance(fixed, LowPassFilter) and fixed.kernel_sizes == (2, )
    assert isinstance(learnable, LearnableLowPassFilter)
    assert list(LowPassFilter().parameters()) == []
