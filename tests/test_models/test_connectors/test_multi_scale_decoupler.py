import math

import pytest
import torch

from mmkd_contrast.models import MultiScaleDecoupler
from mmkd_contrast.registry import MODELS


def reference_decouple(x, k):
    """Region means on a k x k grid (adaptive pooling boundaries), row-major,
    each region L2-normalised along the channels."""
    batch, channels, height, width = x.shape
    out = torch.zeros(batch, k * k, channels, dtype=x.dtype)
    for r in range(k):
        top, bottom = (r * height) // k, math.ceil((r + 1) * height / k)
        for c in range(k):
            left, right = (c * width) // k, math.ceil((c + 1) * width / k)
            region = x[:, :, top:bottom, left:right]
            mean = region.mean(dim=(2, 3))
            out[:, r * k + c] = mean / mean.norm(dim=1, keepdim=True)
    return out


@pytest.mark.parametrize('size', [(4, 4), (5, 7)])
def test_decoupler_matches_region_means(size):
    torch.manual_seed(0)
    x = torch.randn(3, 5, *size, dtype=torch.float64)
    scales = (1, 2, 3)
    features = MultiScaleDecoupler(scales)(x)
    assert len(features) == len(scales)
    for k, feat in zip(scales, features):
        assert feat.shape == (3, k * k, 5)
        assert torch.allclose(feat, reference_decouple(x, k), atol=1e-12)
        assert torch.allclose(feat.norm(dim=-1), torch.ones(3, k * k,
                                                            dtype=x.dtype))


def test_decoupler_region_order_is_row_major():
    # Channel 0 holds a distinct positive value per quadrant.
    x = torch.zeros(1, 2, 4, 4)
    x[0, 0, :2, :2], x[0, 0, :2, 2:] = 1., 2.
    x[0, 0, 2:, :2], x[0, 0, 2:, 2:] = 3., 4.
    x[0, 1] = 1.
    (feat, ) = MultiScaleDecoupler(scales=(2, ))(x)
    ratios = feat[0, :, 0] / feat[0, :, 1]
    assert torch.allclose(ratios, torch.tensor([1., 2., 3., 4.]))


def test_decoupler_zero_map_gives_zeros_not_nan():
    features = MultiScaleDecoupler((1, 2))(torch.zeros(2, 3, 4, 4))
    for feat in features:
        assert torch.equal(feat, torch.zeros_like(feat))


def test_decoupler_scale_larger_than_map_raises():
    decoupler = MultiScaleDecoupler((1, 2, 4))
    with pytest.raises(ValueError, match=r'scale 4.*3x5'):
        decoupler(torch.randn(2, 3, 3, 5))
    with pytest.raises(ValueError, match=r'scale 4.*5x3'):
        decoupler(torch.randn(2, 3, 5, 3))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        decoupler(torch.randn(2, 3, 5))


@pytest.mark.parametrize('scales', [(0, 1), (1, -2), (1, 2, 2), (), (1.5, ),
                                    (True, 2)])
def test_decoupler_bad_scales_raise(scales):
    with pytest.raises(ValueError, match='scale'):
        MultiScaleDecoupler(scales)


def test_decoupler_is_registered_and_parameter_free():
    decoupler = MODELS.build(dict(type='MultiScaleDecoupler', scales=[1, 2]))
    assert isinstance(decoupler, MultiScaleDecoupler)
    assert decoupler.scales == (1, 2)
    assert list(decoupler.parameters()) == []
    assert list(decoupler.buffers()) == []


@pytest.mark.parametrize('size', [(8, 8), (7, 5), (2, 3)])
def test_pooling_matrix_equals_adaptive_pooling(size):
    import torch.nn.functional as F

    from mmkd_contrast.models.connectors.multi_scale_decoupler import \
        pooling_matrix
    torch.manual_seed(0)
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    scales = [k for k in (1, 2, 4) if k <= min(size)]
    matrix = pooling_matrix(*size, scales, dtype=torch.float64)
    assert matrix.shape == (sum(k * k for k in scales), size[0] * size[1])
    pooled = torch.einsum('rp,bcp->brc', matrix, x.flatten(2))
    expected = torch.cat(
        [F.adaptive_avg_pool2d(x, k).flatten(2) for k in scales],
        dim=2).transpose(1, 2)
    assert torch.allclose(pooled, expected, atol=1e-12)


def test_decouple_concatenates_the_scales_and_keeps_gradients():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 6, 6, dtype=torch.float64, requires_grad=True)
    decoupler = MultiScaleDecoupler((2, 1, 3))
    joint = decoupler.decouple(x)
    assert joint.shape == (3, 4 + 1 + 9, 4)
    assert torch.equal(joint, torch.cat(decoupler(x), dim=1))
    weights = torch.randn_like(joint)
    (joint * weights).sum().backward()
    grad = x.grad.clone()
    x.grad = None
    reference = torch.cat([reference_decouple(x, k) for k in (2, 1, 3)], 1)
    (reference * weights).sum().backward()
    assert torch.allclose(grad, x.grad, atol=1e-12)
