import math

import pytest
import torch
import torch.nn as nn
from dist_helpers import run_distributed

from mmkd_contrast.models import (CompactProjector, LearnableLowPassFilter,
                                  LFCCLoss, LowPassFilter, batch_info_nce)
from mmkd_contrast.registry import MODELS


def reference_lfcc(z_s, z_t, temperature, symmetric):
    """Loop over anchors; cosine scores; positive = the same image."""
    b = z_s.shape[0]
    s = [z_s[i].double() / z_s[i].double().norm() for i in range(b)]
    t = [z_t[i].double() / z_t[i].double().norm() for i in range(b)]

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
    z_s, z_t = torch.randn(6, 5), torch.randn(6, 5)
    loss = LFCCLoss(temperature=temperature, symmetric=symmetric)(z_s, z_t)
    assert loss.dim() == 0
    ref = reference_lfcc(z_s, z_t, temperature, symmetric)
    assert abs(loss.item() - ref) < 1e-5 * max(1.0, abs(ref))


def test_loss_weight_normalisation_and_defaults():
    torch.manual_seed(0)
    z_s, z_t = torch.randn(4, 8), torch.randn(4, 8)
    ref = reference_lfcc(z_s, z_t, 0.1, True)
    assert abs(LFCCLoss()(z_s, z_t).item() - ref) < 1e-5
    assert abs(LFCCLoss(loss_weight=2.5)(z_s, z_t).item() - 2.5 * ref) < 1e-4
    # Inputs are L2-normalised inside: row scales do not matter.
    scale = torch.rand(4, 1) * 5 + 0.1
    assert abs(LFCCLoss()(z_s * scale, z_t * scale.flip(0)).item() -
               ref) < 1e-5
    # Half-precision inputs: logits in fp32, result fp32.
    assert LFCCLoss()(z_s.half(), z_t.half()).dtype == torch.float32


def test_gradient_reaches_both_sides():
    torch.manual_seed(0)
    for symmetric in (True, False):
        z_s = torch.randn(4, 8, requires_grad=True)
        z_t = torch.randn(4, 8, requires_grad=True)
        LFCCLoss(symmetric=symmetric)(z_s, z_t).backward()
        assert z_s.grad.abs().sum() > 0
        assert z_t.grad.abs().sum() > 0


def test_errors():
    loss = LFCCLoss()
    with pytest.raises(ValueError, match='at least 2 images'):
        loss(torch.randn(1, 8), torch.randn(1, 8))
    with pytest.raises(ValueError, match=r'z_s \(4, 8\).*z_t \(4, 6\)'):
        loss(torch.randn(4, 8), torch.randn(4, 6))
    with pytest.raises(ValueError, match=r'z_s \(4, 8, 2\)'):
        loss(torch.randn(4, 8, 2), torch.randn(4, 8, 2))
    # Values are checked on a loss's first call (or always in debug mode).
    bad = torch.randn(4, 8)
    bad[1, 2] = float('nan')
    with pytest.raises(ValueError, match='z_t contains non-finite'):
        LFCCLoss()(torch.randn(4, 8), bad)
    bad[1, 2] = float('inf')
    with pytest.raises(ValueError, match='z_s contains non-finite'):
        LFCCLoss()(bad, torch.randn(4, 8))
    with pytest.raises(ValueError, match='temperature'):
        LFCCLoss(temperature=0.0)


def test_batch_info_nce_still_detaches_the_teacher_by_default():
    z_s = torch.randn(4, 8, requires_grad=True)
    z_t = torch.randn(4, 8, requires_grad=True)
    batch_info_nce(z_s, z_t, 0.1, symmetric=True).backward()
    assert z_s.grad.abs().sum() > 0
    assert z_t.grad is None


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


def _lfcc_on_rank(rank, world_size, z_s, z_t):
    """Losses and DDP-scaled gradients of this rank's slice."""
    batch = z_s.shape[0] // world_size
    rows = slice(rank * batch, (rank + 1) * batch)
    results = {}
    for symmetric in (True, False):
        local_s = z_s[rows].clone().requires_grad_(True)
        local_t = z_t[rows].clone().requires_grad_(True)
        loss = LFCCLoss(symmetric=symmetric, loss_weight=1.5)(local_s,
                                                              local_t)
        loss.backward()
        results[symmetric] = (loss.detach(), local_s.grad / world_size,
                              local_t.grad / world_size)
    return results


def test_distributed_matches_single_process_on_concatenated_batch():
    torch.manual_seed(0)
    z_s, z_t = torch.randn(6, 5), torch.randn(6, 5)
    per_rank = run_distributed(_lfcc_on_rank, world_size=2, args=(z_s, z_t))
    for symmetric in (True, False):
        full_s = z_s.clone().requires_grad_(True)
        full_t = z_t.clone().requires_grad_(True)
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
