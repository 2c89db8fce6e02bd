import math
from types import SimpleNamespace

import pytest
import torch
from dist_helpers import run_distributed

from mmkd_contrast.models import DKDLoss, KDLoss, SingleTeacherDistiller
from mmkd_contrast.registry import MODELS


def reference_dkd(s, t, labels, alpha, beta, temperature):
    """The paper's definitions, one sample and one class at a time, in
    float64."""
    s, t = s.double(), t.double()
    total = 0.0
    for i in range(s.shape[0]):
        y = int(labels[i])
        p_s = torch.softmax(s[i] / temperature, dim=0).tolist()
        p_t = torch.softmax(t[i] / temperature, dim=0).tolist()
        # Binary target / non-target distributions.
        b_s = [p_s[y], 1 - p_s[y]]
        b_t = [p_t[y], 1 - p_t[y]]
        tckd = sum(b_t[j] * math.log(b_t[j] / b_s[j]) for j in range(2))
        # Distributions over the non-target classes.
        nckd = 0.0
        for k in range(s.shape[1]):
            if k == y:
                continue
            q_s = p_s[k] / (1 - p_s[y])
            q_t = p_t[k] / (1 - p_t[y])
            nckd += q_t * math.log(q_t / q_s)
        total += alpha * tckd + beta * nckd
    return temperature**2 * total / s.shape[0]


@pytest.mark.parametrize('alpha,beta,temperature',
                         [(1.0, 8.0, 4.0), (0.5, 2.0, 1.0), (0.0, 6.0, 2.0)])
def test_dkd_matches_the_loop_reference(alpha, beta, temperature):
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(6, 7, generator=g), 3 * torch.randn(6, 7, generator=g)
    labels = torch.tensor([0, 6, 3, 3, 1, 5])
    loss = DKDLoss(alpha, beta, temperature, loss_weight=1.5)(s, t, labels)
    ref = reference_dkd(s, t, labels, alpha, beta, temperature)
    assert loss.dtype == torch.float32
    assert math.isclose(float(loss), 1.5 * ref, rel_tol=1e-5)


def test_dkd_with_alpha_1_and_beta_one_minus_p_is_kd():
    """KD = TCKD + (1 - p_t,y) NCKD: with one sample, beta = 1 - p_t,y
    gives KD exactly."""
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(1, 5, generator=g), torch.randn(1, 5, generator=g)
    labels = torch.tensor([2])
    p_ty = float(torch.softmax(t / 4.0, dim=1)[0, 2])
    dkd = DKDLoss(alpha=1.0, beta=1 - p_ty, temperature=4.0)(s, t, labels)
    kd = KDLoss(tau=4.0)(s, t)
    assert math.isclose(float(dkd), float(kd), rel_tol=1e-5)


def test_dkd_is_finite_for_a_confident_teacher_and_grads_only_the_student():
    s = torch.randn(4, 10, requires_grad=True)
    t = torch.full((4, 10), -200.0)
    t[:, 3] = 200.0  # p_t,y = 1 in fp32: log(1 - p_y) would be log(0)
    t.requires_grad_(True)
    loss = DKDLoss()(s, t, torch.tensor([3, 3, 1, 3]))
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert t.grad is None


def test_dkd_zero_for_equal_logits():
    s = torch.randn(5, 4)
    assert float(DKDLoss()(s, s.clone(), torch.arange(5) % 4)) == \
        pytest.approx(0.0, abs=1e-6)


def test_dkd_errors_name_the_shapes():
    loss = DKDLoss()
    with pytest.raises(ValueError, match=r'\(4, 5\).*\(4, 6\)'):
        loss(torch.randn(4, 5), torch.randn(4, 6), torch.zeros(4).long())
    with pytest.raises(ValueError, match=r'C >= 2'):
        loss(torch.randn(4, 1), torch.randn(4, 1), torch.zeros(4).long())
    with pytest.raises(ValueError, match=r'\(4,\).*\(3,\)'):
        loss(torch.randn(4, 5), torch.randn(4, 5), torch.zeros(3).long())
    with pytest.raises(ValueError, match='integer labels'):
        loss(torch.randn(4, 5), torch.randn(4, 5), torch.zeros(4))
    with pytest.raises(ValueError, match=r'label 5 is outside \[0, 5\)'):
        DKDLoss()(torch.randn(2, 5), torch.randn(2, 5), torch.tensor([0, 5]))
    with pytest.raises(ValueError, match=r'DKDLoss: beta must be .*got -1'):
        DKDLoss(beta=-1)


def _dkd_on_rank(rank, world_size, s, t, labels):
    """This rank's loss and its DDP-averaged gradient."""
    rows = slice(rank * 3, rank * 3 + 3)
    local = s[rows].clone().requires_grad_(True)
    loss = DKDLoss(beta=6.0)(local, t[rows], labels[rows])
    loss.backward()
    return loss.detach(), local.grad / world_size


def test_two_processes_match_one_on_the_concatenated_batch():
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    labels = torch.tensor([4, 0, 2, 2, 1, 3])
    per_rank = run_distributed(_dkd_on_rank, world_size=2,
                               args=(s, t, labels))
    full = s.clone().requires_grad_(True)
    loss = DKDLoss(beta=6.0)(full, t, labels)
    loss.backward()
    torch.testing.assert_close(
        torch.stack([r[0] for r in per_rank]).mean(), loss.detach())
    torch.testing.assert_close(torch.cat([r[1] for r in per_rank]),
                               full.grad)


def test_registered():
    loss = MODELS.build(dict(type='mmkd_contrast.DKDLoss', beta=6.0))
    assert isinstance(loss, DKDLoss) and loss.beta == 6.0
    assert loss.needs_labels and loss.min_samples_per_process == 1


def test_warmup_follows_set_epoch_and_the_distiller_passes_it_on():
    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    labels = torch.tensor([0, 1, 2, 3])
    full = float(DKDLoss()(s, t, labels))
    loss = DKDLoss(warmup_epochs=20)
    assert math.isclose(float(loss(s, t, labels)), full / 20, rel_tol=1e-6)
    loss.set_epoch(5, 240)
    assert math.isclose(float(loss(s, t, labels)), full / 4, rel_tol=1e-6)
    loss.set_epoch(30, 240)
    assert math.isclose(float(loss(s, t, labels)), full, rel_tol=1e-6)
    # SingleTeacherDistiller.set_epoch (what DistillEpochHook calls) hands
    # the epoch to every loss.
    losses = dict(dkd=DKDLoss(warmup_epochs=10), kd=KDLoss())
    SingleTeacherDistiller.set_epoch(
        SimpleNamespace(distill_losses=losses), 2, 100)
    assert losses['dkd'].warmup_factor == 0.2
