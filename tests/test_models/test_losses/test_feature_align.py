import math

import pytest
import torch

from mmkd_contrast.models import FeatureAlignLoss
from mmkd_contrast.registry import MODELS


def reference_fa(s_feat, t_feat):
    total = 0.
    for p, t in zip(s_feat.double().tolist(), t_feat.double().tolist()):
        dot = sum(a * b for a, b in zip(p, t))
        norm_p = math.sqrt(sum(a * a for a in p))
        norm_t = math.sqrt(sum(b * b for b in t))
        total += dot / (norm_p * norm_t)
    return torch.tensor(2 - 2 * total / len(s_feat), dtype=torch.float64)


def test_fa_holds_no_parameters():
    assert list(FeatureAlignLoss(loss_weight=20.0).parameters()) == []


def test_fa_matches_formula_and_loss_weight():
    torch.manual_seed(0)
    s_feat, t_feat = torch.randn(6, 4), torch.randn(6, 4)
    loss = FeatureAlignLoss(loss_weight=20.0)(s_feat, t_feat)
    assert torch.allclose(loss.double(), 20.0 * reference_fa(s_feat, t_feat),
                          atol=1e-5)


def test_fa_pools_maps_and_takes_last_of_tuple():
    torch.manual_seed(1)
    loss = FeatureAlignLoss()
    map_s, map_t = torch.randn(3, 4, 4, 4), torch.randn(3, 4, 2, 2)
    pooled = loss(map_s.mean(dim=(2, 3)), map_t.mean(dim=(2, 3)))
    assert torch.allclose(loss(map_s, map_t), pooled, atol=1e-6)
    stages_s = (torch.randn(3, 2, 8, 8), map_s)
    stages_t = [torch.randn(3, 7), map_t]
    assert torch.allclose(loss(stages_s, stages_t), pooled, atol=1e-6)


def test_fa_is_zero_when_aligned():
    s_feat = torch.randn(5, 4)
    assert FeatureAlignLoss()(s_feat, 3.0 * s_feat).abs() < 1e-6


def test_fa_gradients_to_student_not_teacher():
    torch.manual_seed(2)
    s_feat = torch.randn(4, 3, requires_grad=True)
    t_feat = torch.randn(4, 3, requires_grad=True)
    FeatureAlignLoss()(s_feat, t_feat).backward()
    assert s_feat.grad.abs().sum() > 0
    assert t_feat.grad is None


def test_fa_shape_errors_name_both_shapes():
    loss = FeatureAlignLoss()
    with pytest.raises(ValueError, match=r's_feat \(4, 6\).*t_feat \(4, 3\)'):
        loss(torch.randn(4, 6), torch.randn(4, 3))
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(2, 3\)'):
        loss(torch.randn(4, 3), torch.randn(2, 3))
    with pytest.raises(ValueError, match=r's_feat.*\(4, 5, 2\)'):
        loss(torch.randn(4, 5, 2), torch.randn(4, 3))
    with pytest.raises(ValueError, match='t_feat is an empty tuple'):
        loss(torch.randn(4, 3), ())


def test_fa_built_from_registry():
    loss = MODELS.build(dict(type='FeatureAlignLoss', loss_weight=20.0))
    assert isinstance(loss, FeatureAlignLoss) and loss.loss_weight == 20.0
