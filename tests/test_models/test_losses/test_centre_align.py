import pytest
import torch

from mmkd_contrast.models import CentreAlignLoss
from mmkd_contrast.registry import MODELS


def reference_ca(w_s, w_t, b_s=None, b_t=None):
    total, count = 0., 0
    for c in range(w_s.shape[0]):
        row_s, row_t = w_s[c].tolist(), w_t[c].tolist()
        if b_s is not None:
            row_s.append(float(b_s[c]))
            row_t.append(float(b_t[c]))
        for a, b in zip(row_s, row_t):
            total += (a - b)**2
            count += 1
    return torch.tensor(total / count, dtype=torch.float64)


def test_ca_without_bias():
    torch.manual_seed(0)
    w_s, w_t = torch.randn(5, 3), torch.randn(5, 3)
    loss = CentreAlignLoss()(w_s, w_t)
    assert torch.allclose(loss.double(), reference_ca(w_s, w_t), atol=1e-6)


def test_ca_with_bias_and_loss_weight():
    torch.manual_seed(1)
    w_s, w_t = torch.randn(5, 3), torch.randn(5, 3)
    b_s, b_t = torch.randn(5), torch.randn(5)
    ref = reference_ca(w_s, w_t, b_s, b_t)
    # The bias column changes the value (mean over C*(d+1) elements).
    assert not torch.allclose(ref, reference_ca(w_s, w_t))
    loss = CentreAlignLoss(loss_weight=2.0)(w_s, w_t, b_s, b_t)
    assert torch.allclose(loss.double(), 2.0 * ref, atol=1e-6)


def test_ca_gradients_only_to_student():
    w_s = torch.randn(4, 3, requires_grad=True)
    b_s = torch.randn(4, requires_grad=True)
    w_t = torch.randn(4, 3, requires_grad=True)
    b_t = torch.randn(4, requires_grad=True)
    CentreAlignLoss()(w_s, w_t, b_s, b_t).backward()
    assert w_s.grad.abs().sum() > 0 and b_s.grad.abs().sum() > 0
    assert w_t.grad is None and b_t.grad is None


def test_ca_different_widths():
    assert CentreAlignLoss.is_applicable(64, 64)
    assert not CentreAlignLoss.is_applicable(64, 128)
    with pytest.raises(ValueError, match=r'\(10, 64\).*\(10, 128\)'):
        CentreAlignLoss()(torch.randn(10, 64), torch.randn(10, 128))


def test_ca_bias_errors():
    w = torch.randn(4, 3)
    with pytest.raises(ValueError, match='both biases or neither'):
        CentreAlignLoss()(w, w, torch.randn(4), None)
    with pytest.raises(ValueError, match=r's_bias.*\(4,\).*\(4, 3\).*\(5,\)'):
        CentreAlignLoss()(w, w, torch.randn(5), torch.randn(4))


def test_ca_built_from_registry():
    loss = MODELS.build(dict(type='CentreAlignLoss', loss_weight=1.0))
    assert isinstance(loss, CentreAlignLoss)
