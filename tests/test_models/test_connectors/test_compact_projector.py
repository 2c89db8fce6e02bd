import pytest
import torch

from mmkd_contrast.models import CompactProjector
from mmkd_contrast.registry import MODELS


def reference_projection(proj, x, grid):
    """Loop reference for a projector in training mode (BN batch stats)."""
    conv1, bn, _, conv2 = proj.proj
    b, _, h, w = x.shape
    x = x.double()
    hidden = torch.einsum('oc,bchw->bohw', conv1.weight[:, :, 0, 0].double(),
                          x)
    mean = hidden.mean(dim=(0, 2, 3), keepdim=True)
    var = ((hidden - mean)**2).mean(dim=(0, 2, 3), keepdim=True)
    hidden = (hidden - mean) / torch.sqrt(var + bn.eps)
    hidden = hidden * bn.weight.double().view(1, -1, 1, 1) + \
        bn.bias.double().view(1, -1, 1, 1)
    hidden = hidden.clamp(min=0)
    out = torch.einsum('oc,bchw->bohw', conv2.weight[:, :, 0, 0].double(),
                       hidden) + conv2.bias.double().view(1, -1, 1, 1)
    d = out.shape[1]
    rows = []
    for i in range(b):
        vec = torch.zeros(d * grid * grid, dtype=torch.float64)
        for c in range(d):
            for gi in range(grid):
                for gj in range(grid):
                    cell = out[i, c, gi * h // grid:(gi + 1) * h // grid,
                               gj * w // grid:(gj + 1) * w // grid]
                    vec[c * grid * grid + gi * grid + gj] = cell.mean()
        rows.append(vec / vec.norm())
    return torch.stack(rows)


@pytest.mark.parametrize('grid', [1, 2])
def test_matches_loop_reference(grid):
    torch.manual_seed(0)
    proj = CompactProjector(in_channels=6, out_channels=5, grid=grid)
    with torch.no_grad():
        proj.proj[1].weight.uniform_(0.5, 1.5)
        proj.proj[1].bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 6, 4, 4)
    z = proj(x)
    assert z.shape == (3, 5 * grid * grid)
    torch.testing.assert_close(
        z.double(), reference_projection(proj, x, grid), rtol=0, atol=1e-5)
    torch.testing.assert_close(
        z.norm(dim=1), torch.ones(3), rtol=0, atol=1e-6)


def test_default_output_size_and_gradients():
    torch.manual_seed(0)
    proj = CompactProjector(in_channels=8)
    x = torch.randn(2, 8, 7, 7, requires_grad=True)
    z = proj(x)
    assert z.shape == (2, 256 * 4)
    z[:, 0].sum().backward()
    assert x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in proj.parameters())


def test_errors():
    proj = CompactProjector(in_channels=8, out_channels=4)
    with pytest.raises(ValueError, match='expects 8 input channels, got 6'):
        proj(torch.randn(2, 6, 4, 4))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\).*TokenToMap'):
        proj(torch.randn(2, 16, 8))
    with pytest.raises(ValueError, match='grid'):
        CompactProjector(in_channels=8, grid=0)


def test_registered_with_init_cfg():
    proj = MODELS.build(
        dict(
            type='CompactProjector',
            in_channels=3,
            out_channels=4,
            grid=2,
            init_cfg=dict(type='Constant', layer='Conv2d', val=0.5)))
    assert isinstance(proj, CompactProjector)
    proj.init_weights()
    assert torch.all(proj.proj[0].weight == 0.5)
    assert torch.all(proj.proj[3].weight == 0.5)
