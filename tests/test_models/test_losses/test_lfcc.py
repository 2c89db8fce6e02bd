import math

import pytest
import torch
import torch.nn as nn
from dist_helpers import run_distributed

from mmkd_contrast.models import (CompactProjector, LearnableLowPassFilter,
                                  LFCCLoss, LowPassFilter, batch_info_nce)
from mmkd_contrast.registry import MODELS


def reference_lfcc(s_emb, t_emb, temperature, symmetric):
    """Loop over anchors; cosine scores; positive = the same image."""
    b = s_emb.shape[0]
    s = [s_emb[i].double() / s_emb[i].double().norm() for i in range(b)]
    t = [t_emb[i].double() / t_emb[i].double().norm() for i in range(b)]

    def direction(anchors, keys):
        total = 0.0
        for i in range(b):
            scores = [float(anchors[i] @ keys[j]) / temperature
                      for j in range(b)]
            denominator = sum(math.exp(v) for v in scores)
            total += -math.log(math.exp(scores[i]) / denominator)
        return total / b

    loss = direction(s, t)
    if symmetric:
        loss = 0.5 * (loss + direction(t, s))
    return loss


@pytest.mark.parametrize('symmetric', [True, False])
@pytest.mark.parametrize('temperature', [0.1, 0.5])
def test_matches_loop_reference(symmetric, temperature):
    torch.manual_seed(0)
    s_emb, t_emb = torch.randn(6, 5), torch.randn(6, 5)
    loss = LFCCLoss(temperature=temperature, symmetric=symmetric)(s_emb, t_emb)
    assert loss.dim() == 0
    ref = reference_lfcc(s_emb, t_emb, temperature, symmetric)
    assert abs(loss.item() - ref) < 1e-5 * max(1.0, abs(ref))


def test_loss_weight_normalisation_and_defaults():
    torch.manual_seed(0)
    s_emb, t_emb = torch.randn(4, 8), torch.randn(4, 8)
    ref = reference_lfcc(s_emb, t_emb, 0.1, True)
    assert abs(LFCCLoss()(s_emb, t_emb).item() - ref) < 1e-5
    weighted = LFCCLoss(loss_weight=2.5)(s_emb, t_emb).item()
    assert abs(weighted - 2.5 * ref) < 1e-4
    # Inputs are L2-normalised inside: row scales do not matter.
    scale = torch.rand(4, 1) * 5 + 0.1
    assert abs(LFCCLoss()(s_emb * scale, t_emb * scale.flip(0)).item() -
               ref) < 1e-5
    # Half-precision inputs: logits in fp32, result fp32.
    assert LFCCLoss()(s_emb.half(), t_emb.half()).dtype == torch.float32


def test_gradient_reaches_both_sides():
    torch.manual_seed(0)
    for symmetric in (True, False):
        s_emb = torch.randn(4, 8, requires_grad=True)
        t_emb = torch.randn(4, 8, requires_grad=True)
        LFCCLoss(symmetric=symmetric)(s_emb, t_emb).backward()
        assert s_emb.grad.abs().sum() > 0
        assert t_emb.grad.abs().sum() > 0


def test_errors():
    loss = LFCCLoss()
    with pytest.raises(ValueError, match='at least 2 images'):
        loss(torch.randn(1, 8), torch.randn(1, 8))
    with pytest.raises(ValueError, match=r's_emb \(4, 8\).*t_emb \(4, 6\)'):
        loss(torch.randn(4, 8), torch.randn(4, 6))
    with pytest.raises(ValueError, match=r's_emb \(4, 8, 2\)'):
        loss(torch.randn(4, 8, 2), torch.randn(4, 8, 2))
    # Values are checked on a loss's first call (or always in debug mode).
    bad = torch.randn(4, 8)
    bad[1, 2] = float('nan')
    with pytest.raises(ValueError, match='t_emb contains non-finite'):
        LFCCLoss()(torch.randn(4, 8), bad)
    bad[1, 2] = float('inf')
    with pytest.raises(ValueError, match='s_emb contains non-finite'):
        LFCCLoss()(bad, torch.randn(4, 8))
    with pytest.raises(ValueError, match='temperature'):
        LFCCLoss(temperature=0.0)


def test_batch_info_nce_still_detaches_the_teacher_by_default():
    s_emb = torch.randn(4, 8, requires_grad=True)
    t_emb = torch.randn(4, 8, requires_grad=True)
    batch_info_nce(s_emb, t_emb, 0.1, symmetric=True).backward()
    assert s_emb.grad.abs().sum() > 0
    assert t_emb.grad is None


@pytest.mark.parametrize('symmetric', [True, False])
def test_gradient_routing_through_lfcc_components(symmetric):
    torch.manual_seed(0)
    teacher = nn.Conv2d(3, 6, kernel_size=1)
    teacher.requires_grad_(False)
    images = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        t_map = teacher(images)
    s_map = torch.randn(4, 5, 8, 8, requires_grad=True)

    student_filter = LearnableLowPassFilter(5)
    teacher_filter = LowPassFilter()
    student_proj = CompactProjector(5, out_channels=4)
    teacher_proj = CompactProjector(6, out_channels=4)
    loss = LFCCLoss(symmetric=symmetric)(
        student_proj(student_filter(s_map)),
        teacher_proj(teacher_filter(t_map)))
    loss.backward()

    assert s_map.grad.abs().sum() > 0
    assert student_filter.conv.weight.grad.abs().sum() > 0
    for proj in (student_proj, teacher_proj):
        for name, param in proj.named_parameters():
            assert param.grad is not None, name
        assert proj.proj[3].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())
    assert not t_map.requires_grad


def _lfcc_on_rank(rank, world_size, s_emb, t_emb):
    """Losses and DDP-scaled gradients of this rank's slice."""
    batch = s_emb.shape[0] // world_size
    rows = slice(rank * batch, (rank + 1) * batch)
    results = {}
    for symmetric in (True, False):
        local_s = s_emb[rows].clone().requires_grad_(True)
        local_t = t_emb[rows].clone().requires_grad_(True)
        loss = LFCCLoss(symmetric=symmetric, loss_weight=1.5)(local_s,
                                                              local_t)
        loss.backward()
        results[symmetric] = (loss.detach(), local_s.grad / world_size,
                              local_t.grad / world_size)
    return results


def test_distributed_matches_single_process_on_concatenated_batch():
    torch.manual_seed(0)
    s_emb, t_emb = torch.randn(6, 5), torch.randn(6, 5)
    per_rank = run_distributed(
        _lfcc_on_rank, world_size=2, args=(s_emb, t_emb))
    for symmetric in (True, False):
        full_s = s_emb.clone().requires_grad_(True)
        full_t = t_emb.clone().requires_grad_(True)
        loss = LFCCLoss(symmetric=symmetric, loss_weight=1.5)(full_s, full_t)
        loss.backward()
        losses = torch.stack([r[symmetric][0] for r in per_rank])
        torch.testing.assert_close(losses.mean(), loss.detach())
        torch.testing.assert_close(
            torch.cat([r[symmetric][1] for r in per_rank]), full_s.grad)
        torch.testing.assert_close(
            torch.cat([r[symmetric][2] for r in per_rank]), full_t.grad)


def test_registered():
    loss = MODELS.build(dict(type='LFCCLoss', temperature=0.2))
    assert isinstance(loss, LFCCLoss) and loss.temperature == 0.2
    assert loss.symmetric is True and loss.loss_weight == 1.0
