import pytest
import torch
import torch.nn as nn

from mmkd_contrast.models import ProjectionHead
from mmkd_contrast.registry import MODELS


def test_linear_head_shape_unit_norm_and_value():
    torch.manual_seed(0)
    head = ProjectionHead(in_channels=6, out_channels=3)
    assert isinstance(head.proj, nn.Linear)
    x = torch.randn(5, 6)
    out = head(x)
    assert out.shape == (5, 3)
    assert torch.allclose(out.norm(dim=1), torch.ones(5), atol=1e-6)
    for i in range(5):
        row = head.proj.weight @ x[i] + head.proj.bias
        assert torch.allclose(out[i], row / row.norm(), atol=1e-6)


def test_norm_false_keeps_raw_output():
    torch.manual_seed(0)
    head = ProjectionHead(6, 3, norm=False)
    x = torch.randn(4, 6)
    out = head(x)
    assert torch.allclose(out, head.proj(x))
    assert not torch.allclose(out.norm(dim=1), torch.ones(4), atol=1e-3)


def test_mlp_head_layers_and_shape():
    torch.manual_seed(0)
    head = ProjectionHead(6, 3, hidden_channels=10)
    kinds = [type(m) for m in head.proj]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert head.proj[0].out_features == 10 and head.proj[3].in_features == 10
    out = head(torch.randn(4, 6))
    assert out.shape == (4, 3)
    assert torch.allclose(out.norm(dim=1), torch.ones(4), atol=1e-6)


def test_map_input_is_average_pooled():
    torch.manual_seed(0)
    head = ProjectionHead(6, 3)
    x = torch.randn(2, 6, 4, 5)
    pooled = torch.stack([
        torch.stack([x[b, c].sum() / 20 for c in range(6)]) for b in range(2)
    ])
    assert torch.allclose(head(x), head(pooled), atol=1e-6)


def test_sequence_input_uses_last_element():
    torch.manual_seed(0)
    head = ProjectionHead(6, 3)
    last = torch.randn(2, 6, 3, 3)
    expected = head(last)
    assert torch.allclose(head((torch.randn(2, 4), last)), expected)
    assert torch.allclose(head([last]), expected)


def test_gradient_reaches_parameters():
    head = ProjectionHead(6, 3, hidden_channels=8)
    x = torch.randn(4, 6, requires_grad=True)
    (head(x) * torch.randn(4, 3)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for p in head.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_channel_mismatch_names_in_channels_and_shape():
    head = ProjectionHead(6, 3)
    with pytest.raises(ValueError, match=r'in_channels = 6.*\(2, 5\)'):
        head(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r'in_channels = 6.*\(2, 5, 3, 3\)'):
        head(torch.randn(2, 5, 3, 3))
    with pytest.raises(ValueError, match=r'\(2, 7, 6\)'):
        head(torch.randn(2, 7, 6))
    with pytest.raises(ValueError, match='empty'):
        head(())
    with pytest.raises(ValueError, match='out_channels'):
        ProjectionHead(6, 0)


def test_registered():
    head = MODELS.build(
        dict(type='ProjectionHead', in_channels=4, out_channels=2,
             hidden_channels=3))
    assert isinstance(head, ProjectionHead)
    assert head(torch.randn(3, 4)).shape == (3, 2)
