import pytest
import torch
import torch.nn.functional as F

from mmkd_contrast.models import KDLoss


def reference_kd(s, t, tau, weight=None):
    total = 0.
    for i in range(s.shape[0]):
        p_t = F.softmax(t[i] / tau, dim=0)
        log_p_s = F.log_softmax(s[i] / tau, dim=0)
        kl = (p_t * (p_t.log() - log_p_s)).sum()
        total = total + (kl if weight is None else weight[i] * kl)
    return tau**2 * total / s.shape[0]


@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_kd_matches_formula(tau):
    torch.manual_seed(0)
    s, t = torch.randn(5, 7), torch.randn(5, 7)
    loss = KDLoss(tau=tau)(s, t)
    assert torch.allclose(loss, reference_kd(s, t, tau), atol=1e-6)


def test_kd_weight_and_loss_weight():
    torch.manual_seed(0)
    s, t, w = torch.randn(6, 4), torch.randn(6, 4), torch.rand(6)
    ref = reference_kd(s, t, 4.0, w)
    assert torch.allclose(KDLoss()(s, t, w), ref, atol=1e-6)
    assert torch.allclose(KDLoss(loss_weight=2.5)(s, t, w), 2.5 * ref,
                          atol=1e-6)


def test_kd_zero_for_equal_logits_and_grad_only_to_student():
    s = torch.randn(3, 5, requires_grad=True)
    t = s.detach().clone().requires_grad_(True)
    loss = KDLoss()(s, t)
    assert loss.abs() < 1e-6
    KDLoss()(s, torch.randn(3, 5, requires_grad=True)).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_kd_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r'\(2, 3\).*\(2, 4\)'):
        KDLoss()(torch.randn(2, 3), torch.randn(2, 4))


@pytest.mark.parametrize('tau', [0.0, -1.0, float('nan'), float('inf')])
def test_kd_refuses_a_bad_temperature(tau):
    with pytest.raises(ValueError,
                       match='KDLoss: tau must be a finite number > 0'):
        KDLoss(tau=tau)
