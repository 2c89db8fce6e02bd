import math

import pytest
import torch

from mmkd_contrast.models import FeatureAlignLoss
from mmkd_contrast.registry import MODELS


def reference_fa(projected, f_t):
    total = 0.
    for p, t in zip(projected.double().tolist(), f_t.double().tolist()):
        dot = sum(a * b for a, b in zip(p, t))
        norm_p = math.sqrt(sum(a * a for a in p))
        norm_t = math.sqrt(sum(b * b for b in t))
        total += dot / (norm_p * norm_t)
    return torch.tensor(2 - 2 * total / len(projected), dtype=torch.float64)


def test_fa_structure_of_g():
    loss = FeatureAlignLoss(in_channels=6, out_channels=3)
    g = loss.projector
    assert [type(m).__name__ for m in g] == [
        'Linear', 'BatchNorm1d', 'ReLU', 'Linear'
    ]
    assert (g[0].in_features, g[0].out_features) == (6, 48)
    assert g[1].num_features == 48
    assert (g[3].in_features, g[3].out_features) == (48, 3)
    assert FeatureAlignLoss(6, 3, hidden_ratio=2).projector[0].out_features \
        == 6


def test_fa_matches_formula_and_loss_weight():
    torch.manual_seed(0)
    loss = FeatureAlignLoss(5, 4, hidden_ratio=2, loss_weight=20.0).eval()
    f_s, f_t = torch.randn(6, 5), torch.randn(6, 4)
    with torch.no_grad():
        ref = reference_fa(loss.projector(f_s), f_t)
    assert torch.allclose(loss(f_s, f_t).double(), 20.0 * ref, atol=1e-5)


def test_fa_pools_maps_and_takes_last_of_tuple():
    torch.manual_seed(1)
    loss = FeatureAlignLoss(5, 4, hidden_ratio=2).eval()
    map_s, map_t = torch.randn(3, 5, 4, 4), torch.randn(3, 4, 2, 2)
    pooled = loss(map_s.mean(dim=(2, 3)), map_t.mean(dim=(2, 3)))
    assert torch.allclose(loss(map_s, map_t), pooled, atol=1e-6)
    stages_s = (torch.randn(3, 2, 8, 8), map_s)
    stages_t = [torch.randn(3, 7), map_t]
    assert torch.allclose(loss(stages_s, stages_t), pooled, atol=1e-6)


def test_fa_is_zero_when_aligned():
    loss = FeatureAlignLoss(4, 4, hidden_ratio=1).eval()
    f_s = torch.randn(5, 4)
    with torch.no_grad():
        f_t = 3.0 * loss.projector(f_s)
    assert loss(f_s, f_t).abs() < 1e-6


def test_fa_gradients_to_g_and_student_not_teacher():
    torch.manual_seed(2)
    loss = FeatureAlignLoss(5, 3, hidden_ratio=2)
    f_s = torch.randn(4, 5, requires_grad=True)
    f_t = torch.randn(4, 3, requires_grad=True)
    loss(f_s, f_t).backward()
    for name, param in loss.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert f_s.grad.abs().sum() > 0
    assert f_t.grad is None


def test_fa_shape_errors_name_both_shapes():
    loss = FeatureAlignLoss(5, 3)
    with pytest.raises(ValueError, match=r'\(4, 6\).*\(4, 3\)'):
        loss(torch.randn(4, 6), torch.randn(4, 3))
    with pytest.raises(ValueError, match=r'\(4, 5\).*\(2, 3\)'):
        loss(torch.randn(4, 5), torch.randn(2, 3))
    with pytest.raises(ValueError, match=r'\(4, 5, 2\)'):
        loss(torch.randn(4, 5, 2), torch.randn(4, 3))
    with pytest.raises(ValueError, match='in_channels'):
        FeatureAlignLoss(0, 3)


def test_fa_built_from_registry():
    loss = MODELS.build(dict(type='FeatureAlignLoss', in_channels=8,
                             out_channels=4, loss_weight=20.0))
    assert isinstance(loss, FeatureAlignLoss) and loss.loss_weight == 20.0
