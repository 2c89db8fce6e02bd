import torch
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARShuffleNetV1
from mmkd_contrast.models.backbones.cifar_shufflenet_v1 import ShuffleUnitV1


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


def _shuffle_loop(x, groups):
    """Moves channel ``g * (C // groups) + k`` to ``k * groups + g``."""
    channels = x.shape[1]
    per_group = channels // groups
    out = torch.empty_like(x)
    for g in range(groups):
        for k in range(per_group):
            out[:, k * groups + g] = x[:, g * per_group + k]
    return out


def _branch(unit, x, stride, first_groups, groups):
    mid = unit.conv2.weight.shape[0]
    out = F.relu(_bn(F.conv2d(x, unit.conv1.weight, groups=first_groups),
                     unit.bn1))
    out = _shuffle_loop(out, first_groups)
    out = F.relu(
        _bn(
            F.conv2d(out, unit.conv2.weight, stride=stride, padding=1,
                     groups=mid), unit.bn2))
    return _bn(F.conv2d(out, unit.conv3.weight, groups=groups), unit.bn3)


def test_stride1_unit_matches_reference_with_shuffle():
    unit = ShuffleUnitV1(12, 12, 1, groups=3, first_groups=3)
    _randomize(unit)
    x = torch.randn(2, 12, 6, 6)
    expected = F.relu(_branch(unit, x, 1, 3, 3) + x)
    assert torch.allclose(unit(x), expected, atol=1e-5)


def test_stride2_unit_concatenates_avgpool_shortcut():
    unit = ShuffleUnitV1(6, 12, 2, groups=3, first_groups=1)
    _randomize(unit)
    x = torch.randn(2, 6, 8, 8)
    pooled = F.avg_pool2d(x, 3, stride=2, padding=1)
    expected = F.relu(torch.cat([_branch(unit, x, 2, 1, 3), pooled], 1))
    out = unit(x)
    assert out.shape == (2, 18, 4, 4)
    assert torch.allclose(out, expected, atol=1e-5)


def test_layout_groups_and_checkpoint_keys():
    model = CIFARShuffleNetV1()
    assert model.conv1.kernel_size == (1, 1) and model.conv1.out_channels == 24
    assert [len(model.get_submodule(f'layer{i}')) for i in (1, 2, 3)] == [
        4, 8, 4
    ]
    # the very first unit's first 1x1 conv is not grouped, all others are
    assert model.layer1[0].conv1.groups == 1
    assert model.layer1[1].conv1.groups == 3
    assert model.layer2[0].conv1.groups == 3
    assert model.layer1[0].conv3.out_channels == 240 - 24
    assert model.layer2[0].conv3.out_channels == 480 - 240
    assert model.layer2[0].conv1.out_channels == 60
    keys = set(model.state_dict())
    for key in [
            'conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight',
            'layer2.7.bn3.running_var', 'layer3.3.conv3.weight'
    ]:
        assert key in keys, key
