"""CIFARResNet with the parameter-free "option A" (zero-padding) shortcut."""
import pytest
import torch
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARResNet
from mmkd_contrast.models.backbones.cifar_resnet import ZeroPadShortcut


def _randomize(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            values = torch.rand(tensor.shape, generator=generator,
                                dtype=tensor.dtype)
            if name.endswith('running_var'):
                tensor.copy_(0.5 + values)
            else:
                tensor.copy_(values - 0.5)
    module.eval()


def _reference_forward(weights, x, blocks_per_stage, eps=1e-5):
    """Option-A CIFAR ResNet, written from the paper's description with
    explicit tensors only (no module of the project)."""

    def conv(t, key, stride=1):
        return F.conv2d(t, weights[key], stride=stride, padding=1)

    def bn(t, key):
        mean = weights[key + '.running_mean'].view(1, -1, 1, 1)
        var = weights[key + '.running_var'].view(1, -1, 1, 1)
        scale = weights[key + '.weight'].view(1, -1, 1, 1)
        shift = weights[key + '.bias'].view(1, -1, 1, 1)
        return (t - mean) / torch.sqrt(var + eps) * scale + shift

    out = torch.relu(bn(conv(x, 'conv1.weight'), 'bn1'))
    for stage in range(3):
        for index in range(blocks_per_stage):
            name = f'layer{stage + 1}.{index}'
            stride = 2 if stage > 0 and index == 0 else 1
            branch = torch.relu(
                bn(conv(out, f'{name}.conv1.weight', stride), f'{name}.bn1'))
            branch = bn(conv(branch, f'{name}.conv2.weight'), f'{name}.bn2')
            width = branch.shape[1]
            if stride == 1 and out.shape[1] == width:
                short = out
            else:
                sub = out[:, :, 0::2, 0::2]
                short = torch.zeros_like(branch)
                front = (width - sub.shape[1]) // 2
                short[:, front:front + sub.shape[1]] = sub
            out = torch.relu(branch + short)
    return out


@pytest.mark.parametrize('arch,blocks', [('resnet8', 1), ('resnet20', 3)])
def test_zero_pad_forward_matches_float64_reference(arch, blocks):
    model = CIFARResNet(arch=arch, shortcut='zero_pad').double()
    _randomize(model)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        (out, ) = model(x)
    expected = _reference_forward(weights, x, blocks)
    assert out.shape == (2, 64, 8, 8)
    assert torch.allclose(out, expected, rtol=1e-10, atol=1e-10)


def test_zero_pad_has_no_shortcut_parameters():
    option_a = CIFARResNet(arch='resnet20', shortcut='zero_pad')
    option_b = CIFARResNet(arch='resnet20')
    assert not any('downsample' in k for k in option_a.state_dict())
    assert any('downsample' in k for k in option_b.state_dict())
    params_a = sum(p.numel() for p in option_a.parameters())
    # 269,072 backbone + 650 head parameters = the 0.27 M of He et al.
    assert params_a == 269072


def test_zero_pad_shortcut_places_input_between_zero_channels():
    shortcut = ZeroPadShortcut(2, 6, stride=2)
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).view(1, 2, 4, 4) + 1
    out = shortcut(x)
    assert out.shape == (1, 6, 2, 2)
    assert torch.equal(out[:, 2:4], x[:, :, ::2, ::2])
    assert out[:, :2].abs().sum() == 0 and out[:, 4:].abs().sum() == 0


def test_bad_shortcut_arguments_are_named():
    with pytest.raises(ValueError, match="unknown shortcut 'C'"):
        CIFARResNet(arch='resnet20', shortcut='C')
    with pytest.raises(ValueError, match='bottleneck'):
        CIFARResNet(arch='ResNet50', shortcut='zero_pad')
    with pytest.raises(ValueError, match='cannot drop channels'):
        ZeroPadShortcut(8, 4)
