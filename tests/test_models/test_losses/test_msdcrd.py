import math

import pytest
import torch
from dist_helpers import run_distributed

from mmkd_contrast.models import ChannelAligner, MSDCRDLoss
from mmkd_contrast.registry import MODELS


def region_means(x, rows, cols):
    """Adaptive average pooling written out: (B, C, H, W) -> (B, C, rows,
    cols), cell (r, c) being the mean of its adaptive-pooling window."""
    height, width = x.shape[-2:]
    out = torch.zeros(*x.shape[:2], rows, cols, dtype=x.dtype)
    for r in range(rows):
        top, bottom = (r * height) // rows, math.ceil((r + 1) * height / rows)
        for c in range(cols):
            left, right = (c * width) // cols, math.ceil(
                (c + 1) * width / cols)
            out[:, :, r, c] = x[:, :, top:bottom, left:right].mean(dim=(2, 3))
    return out


def local_features(x, k):
    """(B, k*k, C): region m = row-major cell of the k x k grid, unit norm."""
    pooled = region_means(x, k, k)
    feats = torch.zeros(x.shape[0], k * k, x.shape[1], dtype=x.dtype)
    for i in range(x.shape[0]):
        for m in range(k * k):
            v = pooled[i, :, m // k, m % k]
            feats[i, m] = v / v.norm()
    return feats


def neg_log_softmax(anchor, keys, positive, tau):
    """-log(exp(anchor.keys[positive]/tau) / sum_j exp(anchor.keys[j]/tau))"""
    scores = [torch.dot(anchor, keys[j]) / tau for j in range(keys.shape[0])]
    denominator = sum(torch.exp(score) for score in scores)
    return -torch.log(torch.exp(scores[positive]) / denominator)


def reference_terms(s, t, scales, tau, symmetric):
    """L_samp and L_feat (docs/msdcrd.md, "The formulas"), with explicit
    loops."""
    s, t = s.double(), t.double()
    height = min(s.shape[2], t.shape[2])
    width = min(s.shape[3], t.shape[3])
    s, t = region_means(s, height, width), region_means(t, height, width)
    batch = s.shape[0]
    samp_per_scale, feat_per_scale = [], []
    for k in scales:
        s_k, t_k = local_features(s, k), local_features(t, k)
        per_region = []
        for m in range(k * k):
            total = 0.
            for i in range(batch):
                term = neg_log_softmax(s_k[i, m], t_k[:, m], i, tau)
                if symmetric:
                    term = 0.5 * (
                        term + neg_log_softmax(t_k[i, m], s_k[:, m], i, tau))
                total = total + term
            per_region.append(total / batch)
        samp_per_scale.append(sum(per_region) / len(per_region))
        if k > 1:
            per_image = []
            for i in range(batch):
                total = 0.
                for m in range(k * k):
                    term = neg_log_softmax(s_k[i, m], t_k[i], m, tau)
                    if symmetric:
                        term = 0.5 * (
                            term + neg_log_softmax(t_k[i, m], s_k[i], m, tau))
                    total = total + term
                per_image.append(total / (k * k))
            feat_per_scale.append(sum(per_image) / batch)
    loss_samp = sum(samp_per_scale) / len(samp_per_scale)
    loss_feat = (sum(feat_per_scale) / len(feat_per_scale)
                 if feat_per_scale else torch.tensor(0., dtype=s.dtype))
    return loss_samp, loss_feat


def random_maps(s_size, t_size, batch=4, channels=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    s = torch.randn(batch, channels, *s_size, generator=gen)
    t = torch.randn(batch, channels, *t_size, generator=gen)
    return s, t


@pytest.mark.parametrize('sizes', [((4, 4), (4, 4)), ((6, 5), (4, 7))])
@pytest.mark.parametrize('symmetric', [False, True])
@pytest.mark.parametrize('scales', [(1, ), (1, 2), (1, 2, 4), (2, 3)])
def test_msdcrd_matches_formula(scales, symmetric, sizes):
    s, t = random_maps(*sizes)
    tau = 0.5
    loss = MSDCRDLoss(scales=scales, temperature=tau, symmetric=symmetric)
    value = loss(s, t)
    loss_samp, loss_feat = reference_terms(s, t, scales, tau, symmetric)
    assert value.dtype == torch.float32
    assert torch.allclose(value.double(), loss_samp + loss_feat, rtol=1e-5,
                          atol=1e-5)


@pytest.mark.parametrize('symmetric', [False, True])
def test_msdcrd_weights_act_as_in_formula(symmetric):
    s, t = random_maps((5, 5), (5, 5), seed=1)
    scales = (1, 2, 4)
    loss_samp, loss_feat = reference_terms(s, t, scales, 0.1, symmetric)
    for sample_weight, feature_weight, loss_weight in [(1., 0., 1.),
                                                       (0., 1., 1.),
                                                       (0.3, 2., 2.5)]:
        value = MSDCRDLoss(
            scales,
            sample_weight=sample_weight,
            feature_weight=feature_weight,
            symmetric=symmetric,
            loss_weight=loss_weight)(s, t)
        expected = loss_weight * (
            sample_weight * loss_samp + feature_weight * loss_feat)
        assert torch.allclose(value.double(), expected, rtol=1e-5, atol=1e-5)


def test_msdcrd_feature_term_is_zero_without_scales_above_one():
    s, t = random_maps((4, 4), (4, 4))
    value = MSDCRDLoss(scales=(1, ), sample_weight=0.)(s, t)
    assert value.item() == 0.


def test_msdcrd_gradient_reaches_student_and_aligner_not_teacher():
    torch.manual_seed(0)
    aligner = ChannelAligner(3, 6)
    s_raw = torch.randn(4, 3, 8, 8, requires_grad=True)
    t = torch.randn(4, 6, 4, 4, requires_grad=True)
    MSDCRDLoss(symmetric=True)(aligner(s_raw), t).backward()
    assert t.grad is None
    assert torch.isfinite(s_raw.grad).all() and s_raw.grad.abs().sum() > 0
    for name, param in aligner.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize('symmetric', [False, True])
def test_msdcrd_lower_for_matched_than_shuffled_teacher(symmetric):
    torch.manual_seed(0)
    s = torch.randn(8, 16, 4, 4)
    t = s + 0.05 * torch.randn_like(s)
    shuffled = t.roll(1, dims=0)  # every image gets another image's teacher
    loss = MSDCRDLoss(symmetric=symmetric)
    assert loss(s, t) < loss(s, shuffled)


def test_msdcrd_low_precision_inputs_give_fp32_loss():
    s, t = random_maps((4, 4), (4, 4))
    value = MSDCRDLoss()(s.bfloat16(), t.bfloat16())
    assert value.dtype == torch.float32 and torch.isfinite(value)


def test_msdcrd_has_no_state_and_is_registered():
    loss = MODELS.build(dict(type='MSDCRDLoss', scales=[1, 2]))
    assert isinstance(loss, MSDCRDLoss)
    # Its buffers are constants (region weights, the cross-scale mask) kept
    # on the device; nothing is saved in a checkpoint.
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    assert all(not b.requires_grad for b in loss.buffers())


def test_msdcrd_single_image_raises_instead_of_nan():
    s, t = random_maps((4, 4), (4, 4), batch=1)
    with pytest.raises(ValueError, match='no negatives'):
        MSDCRDLoss()(s, t)


def test_msdcrd_channel_mismatch_names_both_and_aligner():
    s = torch.randn(4, 6, 4, 4)
    t = torch.randn(4, 8, 4, 4)
    with pytest.raises(ValueError, match=r'6 channels.*8.*ChannelAligner'):
        MSDCRDLoss()(s, t)


def test_msdcrd_scale_larger_than_pooled_map_raises():
    with pytest.raises(ValueError, match=r'scale 4 .*3x3'):
        MSDCRDLoss()(*random_maps((3, 3), (3, 3)))
    # Each map is big enough alone, but the common (pooled) size is 3x5.
    with pytest.raises(ValueError, match=r'scale 4 .*3x5'):
        MSDCRDLoss()(*random_maps((8, 5), (3, 8)))


@pytest.mark.parametrize('name', ['s_feat', 't_feat'])
@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_msdcrd_non_finite_input_names_it(name, bad):
    s, t = random_maps((4, 4), (4, 4))
    (s if name == 's_feat' else t)[1, 2, 3, 0] = bad
    with pytest.raises(ValueError, match=f'{name} contains non-finite'):
        MSDCRDLoss()(s, t)


def test_msdcrd_other_bad_inputs_raise():
    with pytest.raises(ValueError, match=r'batch sizes 4 and 3'):
        MSDCRDLoss()(torch.randn(4, 6, 4, 4), torch.randn(3, 6, 4, 4))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        MSDCRDLoss()(torch.randn(4, 6, 16), torch.randn(4, 6, 16))
    with pytest.raises(ValueError, match='temperature'):
        MSDCRDLoss(temperature=0.)
    with pytest.raises(ValueError, match='scales'):
        MSDCRDLoss(scales=(1, 2, 2))


def _loss_and_grad_on_slice(rank, world_size, s_full, t_full, scales):
    half = s_full.shape[0] // world_size
    rows = slice(rank * half, (rank + 1) * half)
    results = []
    for symmetric in (False, True):
        s = s_full[rows].clone().requires_grad_(True)
        loss = MSDCRDLoss(scales, symmetric=symmetric)(s, t_full[rows])
        loss.backward()
        results.append((loss.detach(), s.grad))
    return results


def test_msdcrd_two_processes_equal_single_process():
    s_full, t_full = random_maps((5, 6), (4, 4), batch=6, seed=3)
    scales = (1, 2, 3)
    per_rank = run_distributed(
        _loss_and_grad_on_slice, world_size=2,
        args=(s_full, t_full, scales))
    for index, symmetric in enumerate((False, True)):
        s = s_full.clone().requires_grad_(True)
        loss = MSDCRDLoss(scales, symmetric=symmetric)(s, t_full)
        loss.backward()
        rank_losses = torch.stack([result[index][0] for result in per_rank])
        assert torch.allclose(rank_losses.mean(), loss, atol=1e-6)
        # The check has teeth: contrasting each half alone gives another
        # value, so the ranks must have used the teacher keys of both halves.
        with torch.no_grad():
            local_only = torch.stack([
                MSDCRDLoss(scales, symmetric=symmetric)(s_full[r], t_full[r])
                for r in (slice(0, 3), slice(3, 6))
            ]).mean()
        assert not torch.allclose(local_only, loss, atol=1e-3)
        ddp_grad = torch.cat([result[index][1] / 2 for result in per_rank])
        assert torch.allclose(ddp_grad, s.grad, atol=1e-6)
