import math

import pytest
import torch
from dist_helpers import run_distributed

from mmkd_contrast.models import CategoryContrastLoss
from mmkd_contrast.registry import MODELS


def reference_cc(u_s, u_t, labels, tau=4.0, tau_b=0.07, weight=None):
    """L_CC (docs/pckd.md, "The formulas") written as loops, in float64.
    ``u_t=None`` contrasts the student anchors alone; an anchor without
    positive adds nothing."""
    u_s = u_s.double().tolist()
    labels = labels.tolist()
    num = len(labels)
    anchors = list(zip(u_s, labels))
    if u_t is not None:
        anchors += list(zip(u_t.double().tolist(), labels))

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))

    def ell(a):
        vec, label = anchors[a]
        others = [k for k in range(len(anchors)) if k != a]
        log_denom = math.log(
            sum(math.exp(dot(vec, anchors[k][0]) / tau) for k in others))
        positives = [p for p in others if anchors[p][1] == label]
        if not positives:
            return 0.
        total = sum(dot(vec, anchors[p][0]) / tau - log_denom
                    for p in positives)
        return -(tau / tau_b) * total / len(positives)

    loss = 0.
    for n in range(num):
        ell_n = ell(n) + (ell(num + n) if u_t is not None else 0.)
        loss += (1. if weight is None else float(weight[n])) * ell_n
    return torch.tensor(loss / num, dtype=torch.float64)


def random_scores(num, classes, seed):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(num, classes, generator=gen),
            torch.randn(num, classes, generator=gen))


def test_cc_matches_reference_with_repeated_labels():
    u_s, u_t = random_scores(7, 5, seed=0)
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 4])
    loss = CategoryContrastLoss()(s_scores=u_s, t_scores=u_t, labels=labels)
    ref = reference_cc(u_s, u_t, labels)
    assert torch.allclose(loss.double(), ref, rtol=1e-5, atol=1e-5)


def test_cc_weight_and_loss_weight():
    u_s, u_t = random_scores(6, 4, seed=1)
    labels = torch.tensor([3, 3, 1, 0, 1, 2])
    weight = torch.rand(6, generator=torch.Generator().manual_seed(2))
    ref = reference_cc(u_s, u_t, labels, tau=2.0, tau_b=0.5, weight=weight)
    loss = CategoryContrastLoss(temperature=2.0, base_temperature=0.5)
    assert torch.allclose(loss(u_s, u_t, labels, weight).double(), ref,
                          rtol=1e-5, atol=1e-5)
    scaled = CategoryContrastLoss(2.0, 0.5, loss_weight=0.05)
    assert torch.allclose(scaled(u_s, u_t, labels, weight).double(),
                          0.05 * ref, rtol=1e-5, atol=1e-6)
    # The weight changes the value (else the check above proves nothing).
    assert not torch.allclose(loss(u_s, u_t, labels), loss(u_s, u_t, labels,
                                                           weight))


def test_cc_four_views_of_distinct_images_is_defined():
    # 3 images with distinct labels, 4 views each, view-major as the data
    # preprocessor lays them out: the other views share the label.
    u_s, u_t = random_scores(12, 6, seed=3)
    labels = torch.tensor([4, 0, 2]).repeat(4)
    loss = CategoryContrastLoss()(u_s, u_t, labels)
    assert torch.isfinite(loss) and loss.abs() > 1e-3
    assert torch.allclose(loss.double(), reference_cc(u_s, u_t, labels),
                          rtol=1e-5, atol=1e-5)


def test_cc_single_view_distinct_labels_pairs_student_and_teacher_scores():
    # Every label once: the only positive of u_s_n is u_t_n and vice versa,
    # so l_a = -(tau/tau_b) * (u_s_n.u_t_n/tau - log sum_{k!=a} exp(.)).
    u_s, u_t = random_scores(4, 4, seed=4)
    labels = torch.tensor([2, 0, 3, 1])
    u_s.requires_grad_(True)
    loss = CategoryContrastLoss()(u_s, u_t, labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(u_s.grad).all()
    assert torch.allclose(loss.double(), reference_cc(u_s, u_t, labels),
                          rtol=1e-5, atol=1e-5)


def test_cc_one_side_anchor_without_positive_adds_zero():
    u_s, _ = random_scores(5, 6, seed=5)
    u_s.requires_grad_(True)
    distinct = torch.tensor([0, 1, 2, 3, 4])
    loss = CategoryContrastLoss()(u_s, None, distinct)
    loss.backward()
    assert loss == 0 and torch.isfinite(u_s.grad).all()
    assert u_s.grad.abs().sum() == 0
    # Only anchors 0, 2 and 3 (label 1) have positives; anchors 1 and 4 add
    # zero but still count in 1/N.
    mixed = torch.tensor([1, 5, 1, 1, 0])
    loss = CategoryContrastLoss()(u_s.detach(), None, mixed)
    assert torch.isfinite(loss) and loss.abs() > 1e-3
    assert torch.allclose(loss.double(), reference_cc(u_s, None, mixed),
                          rtol=1e-5, atol=1e-5)


def test_cc_single_anchor_raises():
    with pytest.raises(ValueError, match='at least 2 anchors'):
        CategoryContrastLoss()(torch.randn(1, 3), None, torch.tensor([0]))


def test_cc_gradients_reach_both_score_sides_not_weight():
    u_s, u_t = random_scores(6, 4, seed=6)
    u_s.requires_grad_(True)
    u_t.requires_grad_(True)
    weight = torch.rand(6).requires_grad_(True)
    labels = torch.tensor([0, 1, 0, 1, 2, 2])
    CategoryContrastLoss()(u_s, u_t, labels, weight).backward()
    # u_t comes from the trained head e_t on the student feature: it must
    # be trained too.
    assert u_s.grad.abs().sum() > 0 and u_t.grad.abs().sum() > 0
    assert weight.grad is None


def test_cc_logits_in_fp32_under_autocast():
    u_s, u_t = random_scores(8, 5, seed=7)
    u_s, u_t = u_s.bfloat16(), u_t.bfloat16()
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = CategoryContrastLoss()(u_s, u_t, labels)
    assert loss.dtype == torch.float32
    assert torch.allclose(loss.double(), reference_cc(u_s, u_t, labels),
                          rtol=1e-5, atol=1e-4)


def test_cc_label_out_of_range_names_value():
    u_s, u_t = random_scores(3, 5, seed=8)
    with pytest.raises(ValueError, match=r'label 5 is outside \[0, 5\)'):
        CategoryContrastLoss()(u_s, u_t, torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match='label -1 '):
        CategoryContrastLoss()(u_s, u_t, torch.tensor([0, -1, 1]))


def test_cc_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r'\(3, 5\).*\(3, 4\)'):
        CategoryContrastLoss()(torch.randn(3, 5), torch.randn(3, 4),
                               torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r'\(3, 5\).*\(2,\)'):
        CategoryContrastLoss()(torch.randn(3, 5), torch.randn(3, 5),
                               torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'\(3, 5\).*\(4,\)'):
        CategoryContrastLoss()(torch.randn(3, 5), torch.randn(3, 5),
                               torch.tensor([0, 1, 2]), torch.ones(4))
    with pytest.raises(ValueError, match='integer labels'):
        CategoryContrastLoss()(torch.randn(3, 5), torch.randn(3, 5),
                               torch.tensor([0., 1., 2.]))


def test_cc_built_from_registry():
    loss = MODELS.build(dict(type='CategoryContrastLoss', loss_weight=0.05))
    assert isinstance(loss, CategoryContrastLoss) and loss.loss_weight == 0.05


def _cc_loss_and_grads_on_slice(rank, world_size, u_s_full, u_t_full,
                                labels_full, weight_full):
    per_rank = u_s_full.shape[0] // world_size
    part = slice(rank * per_rank, (rank + 1) * per_rank)
    u_s = u_s_full[part].clone().requires_grad_(True)
    u_t = u_t_full[part].clone().requires_grad_(True)
    loss = CategoryContrastLoss()(u_s, u_t, labels_full[part],
                                  weight_full[part])
    loss.backward()
    return loss.detach(), u_s.grad, u_t.grad


def test_cc_two_processes_equal_single_process():
    u_s, u_t = random_scores(8, 4, seed=9)
    labels = torch.tensor([0, 1, 2, 3, 3, 2, 1, 0])
    weight = torch.rand(8, generator=torch.Generator().manual_seed(10))
    per_rank = run_distributed(_cc_loss_and_grads_on_slice, world_size=2,
                               args=(u_s, u_t, labels, weight))
    u_s.requires_grad_(True)
    u_t.requires_grad_(True)
    loss = CategoryContrastLoss()(u_s, u_t, labels, weight)
    loss.backward()
    rank_losses = torch.stack([result[0] for result in per_rank])
    assert torch.allclose(rank_losses.mean(), loss, rtol=1e-5, atol=1e-5)
    # Teeth: each half alone has no positive of another image, so the
    # ranks must have contrasted against the other half.
    with torch.no_grad():
        local_only = torch.stack([
            CategoryContrastLoss()(u_s[r], u_t[r], labels[r], weight[r])
            for r in (slice(0, 4), slice(4, 8))
        ]).mean()
    assert not torch.allclose(local_only, loss, atol=1e-2)
    # DDP averages the gradients over the 2 ranks.
    for side, full_grad in ((1, u_s.grad), (2, u_t.grad)):
        ddp_grad = torch.cat([result[side] / 2 for result in per_rank])
        assert torch.allclose(ddp_grad, full_grad, rtol=1e-4, atol=1e-5)
