import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARVGG


def test_stage_layout_and_checkpoint_keys():
    model = CIFARVGG(arch='vgg13')
    # two convs per stage: conv, BN, ReLU, conv, BN (trailing ReLU dropped)
    assert [type(m) for m in model.block0] == [
        nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d
    ]
    keys = set(model.state_dict())
    for key in [
            'block0.0.weight', 'block0.0.bias', 'block0.1.running_mean',
            'block0.3.weight', 'block0.4.weight', 'block4.4.bias'
    ]:
        assert key in keys, key
    vgg8 = CIFARVGG(arch='vgg8')
    assert [type(m) for m in vgg8.block3] == [nn.Conv2d, nn.BatchNorm2d]
    vgg19 = CIFARVGG(arch='vgg19')
    assert [sum(isinstance(m, nn.Conv2d) for m in vgg19.get_submodule(
        f'block{i}')) for i in range(5)] == [2, 2, 4, 4, 4]


def test_stage_outputs_are_relu_of_stage_modules():
    model = CIFARVGG(arch='vgg8', out_indices=(0, 1, 2, 3, 4))
    model.eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        outs = model(x)
        f0 = F.relu(model.block0(x))
        f1 = F.relu(model.block1(F.max_pool2d(f0, 2)))
        f2 = F.relu(model.block2(F.max_pool2d(f1, 2)))
        f3 = F.relu(model.block3(F.max_pool2d(f2, 2)))
        f4 = F.relu(model.block4(f3))  # no pooling before stage 4 at 32x32
    for got, want in zip(outs, [f0, f1, f2, f3, f4]):
        assert torch.allclose(got, want, atol=1e-6)


def test_extra_pool_before_last_stage_for_64px_inputs():
    model = CIFARVGG(arch='vgg8', out_indices=(3, 4))
    with torch.no_grad():
        small = model(torch.rand(1, 3, 32, 32))
        large = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[-1] for o in small] == [4, 4]
    assert [o.shape[-1] for o in large] == [8, 4]


def test_frozen_stages_zero_freezes_nothing():
    model = CIFARVGG(arch='vgg8', frozen_stages=0)
    assert all(p.requires_grad for p in model.parameters())
