import torch
import torch.nn.functional as F

from mmkd_contrast.models.backbones import CIFARWideResNet
from mmkd_contrast.models.backbones.cifar_wide_resnet import WideBasicBlock


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


def test_projection_block_uses_preactivated_input_for_shortcut():
    block = WideBasicBlock(4, 6, stride=2)
    _randomize(block)
    x = torch.randn(2, 4, 8, 8)
    act = F.relu(_bn(x, block.bn1))
    out = F.relu(_bn(F.conv2d(act, block.conv1.weight, stride=2, padding=1),
                     block.bn2))
    out = F.conv2d(out, block.conv2.weight, padding=1)
    expected = out + F.conv2d(act, block.shortcut.weight, stride=2)
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_identity_block_adds_raw_input():
    block = WideBasicBlock(5, 5)
    assert block.shortcut is None
    _randomize(block)
    x = torch.randn(1, 5, 4, 4)
    act = F.relu(_bn(x, block.bn1))
    out = F.relu(_bn(F.conv2d(act, block.conv1.weight, padding=1), block.bn2))
    expected = F.conv2d(out, block.conv2.weight, padding=1) + x
    assert torch.allclose(block(x), expected, atol=1e-5)


def test_checkpoint_key_layout_and_depth():
    model = CIFARWideResNet(arch='wrn_40_2')
    keys = set(model.state_dict())
    for key in [
            'conv1.weight', 'block1.layer.0.bn1.weight',
            'block1.layer.0.shortcut.weight', 'block2.layer.5.conv2.weight',
            'block3.layer.0.shortcut.weight', 'bn1.running_var'
    ]:
        assert key in keys, key
    assert len(model.block1.layer) == 6
    assert not any(k.startswith('block1.layer.1.shortcut') for k in keys)
    narrow = set(CIFARWideResNet(arch='wrn_16_1').state_dict())
    # 16 -> 16 channels: the very first block has no projection
    assert not any(k.startswith('block1.layer.0.shortcut') for k in narrow)
    assert 'bn1.weight' in narrow and 'block2.layer.1.conv1.weight' in narrow


def test_final_bn_relu_belongs_to_last_stage():
    model = CIFARWideResNet(arch='wrn_16_1', out_indices=(0, 1, 2))
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        outs = model(x)
        raw = model.block3(model.block2(model.block1(model.conv1(x))))
    assert outs[0].min() < 0  # pre-activation map of stage 0
    assert torch.allclose(outs[2], F.relu(_bn(raw, model.bn1)), atol=1e-5)


def test_dropout_only_in_training():
    model = CIFARWideResNet(arch='wrn_16_1', drop_rate=0.5)
    x = torch.randn(2, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    torch.manual_seed(0)
    first = model(x)[0]
    torch.manual_seed(1)
    assert not torch.allclose(first, model(x)[0])
