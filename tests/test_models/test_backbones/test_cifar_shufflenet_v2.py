import pytest
import torch
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARShuffleNetV2
from mmkd_contrast.models.backbones.cifar_shufflenet_v2 import (
    ShuffleDownUnitV2, ShuffleUnitV2)


def _bn(x, bn):
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight,
                        bn.bias, False, 0.0, bn.eps)


def _randomize(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.uniform_(-0.5, 0.5)
    module.eval()


def _interleave_halves(a, b):
    """Shuffle of ``cat([a, b])`` in 2 groups: a0, b0, a1, b1, ..."""
    out = []
    for k in range(a.shape[1]):
        out += [a[:, k:k + 1], b[:, k:k + 1]]
    return torch.cat(out, dim=1)


def test_unit_keeps_first_half_and_interleaves():
    unit = ShuffleUnitV2(8)
    _randomize(unit)
    x = torch.randn(2, 8, 5, 5)
    kept, branch = x[:, :4], x[:, 4:]
    out = F.relu(_bn(F.conv2d(branch, unit.conv1.weight), unit.bn1))
    out = _bn(F.conv2d(out, unit.conv2.weight, padding=1, groups=4), unit.bn2)
    out = F.relu(_bn(F.conv2d(out, unit.conv3.weight), unit.bn3))
    assert torch.allclose(unit(x), _interleave_halves(kept, out), atol=1e-5)


def test_down_unit_matches_two_branch_reference():
    unit = ShuffleDownUnitV2(6, 10)
    _randomize(unit)
    x = torch.randn(2, 6, 8, 8)
    left = _bn(F.conv2d(x, unit.conv1.weight, stride=2, padding=1, groups=6),
               unit.bn1)
    left = F.relu(_bn(F.conv2d(left, unit.conv2.weight), unit.bn2))
    right = F.relu(_bn(F.conv2d(x, unit.conv3.weight), unit.bn3))
    right = _bn(
        F.conv2d(right, unit.conv4.weight, stride=2, padding=1, groups=5),
        unit.bn4)
    right = F.relu(_bn(F.conv2d(right, unit.conv5.weight), unit.bn5))
    out = unit(x)
    assert out.shape == (2, 10, 4, 4)
    assert torch.allclose(out, _interleave_halves(left, right), atol=1e-5)


def test_layout_and_checkpoint_keys():
    model = CIFARShuffleNetV2()
    assert [len(model.get_submodule(f'layer{i}')) for i in (1, 2, 3)] == [
        4, 8, 4
    ]
    assert isinstance(model.layer2[0], ShuffleDownUnitV2)
    assert all(isinstance(u, ShuffleUnitV2) for u in model.layer2[1:])
    keys = set(model.state_dict())
    for key in [
            'conv1.weight', 'bn1.weight', 'layer1.0.conv5.weight',
            'layer1.0.bn4.running_mean', 'layer2.7.conv3.weight',
            'conv2.weight', 'bn2.bias'
    ]:
        assert key in keys, key


@pytest.mark.parametrize('widen_factor,channels', [
    (0.5, (48, 96, 192, 1024)),
    (2.0, (224, 488, 976, 2048)),
])
def test_widen_factor_table(widen_factor, channels):
    model = CIFARShuffleNetV2(widen_factor=widen_factor)
    assert model.out_channels == channels
    assert model.conv2.out_channels == channels[-1]
