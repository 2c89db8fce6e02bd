import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmkd_contrast.models import (CompactProjector, ConnectorSequence,
                                  LearnableLowPassFilter, LowPassFilter,
                                  TokenToMap)
from mmkd_contrast.registry import MODELS


def test_chain_equals_steps_applied_by_hand():
    torch.manual_seed(0)
    chain = MODELS.build(
        dict(
            type='ConnectorSequence',
            connectors=[
                dict(type='TokenToMap', num_extra_tokens=1),
                dict(type='LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='CompactProjector', in_channels=6, out_channels=5),
            ]))
    assert len(chain) == 3
    assert isinstance(chain[0], TokenToMap)
    assert isinstance(chain[1], LowPassFilter)
    assert isinstance(chain[2], CompactProjector)
    tokens = torch.randn(3, 1 + 4 * 4, 6)
    expected = tokens[:, 1:].reshape(3, 4, 4, 6).permute(0, 3, 1, 2)
    expected = LowPassFilter((2, 4))(expected)
    expected = chain[2](expected)
    torch.testing.assert_close(chain(tokens), expected)


def test_accepts_built_modules_and_trains_every_step():
    torch.manual_seed(0)
    chain = ConnectorSequence(connectors=[
        LearnableLowPassFilter(in_channels=4, kernel_sizes=(2, )),
        dict(type='CompactProjector', in_channels=4, out_channels=3),
    ])
    x = torch.randn(2, 4, 4, 4, requires_grad=True)
    chain(x)[:, 0].sum().backward()
    assert x.grad.abs().sum() > 0
    for name, param in chain.named_parameters():
        assert param.grad is not None, name
    assert chain[0].conv.weight.grad.abs().sum() > 0


def test_init_weights_restores_the_low_pass_start():
    chain = ConnectorSequence(connectors=[
        dict(type='LearnableLowPassFilter', in_channels=3),
        dict(type='CompactProjector', in_channels=3, out_channels=2),
    ])
    with torch.no_grad():
        chain[0].conv.weight.normal_()
    x = torch.randn(2, 3, 8, 8)
    assert not torch.allclose(chain[0](x), LowPassFilter()(x), atol=1e-3)
    chain.init_weights()
    torch.testing.assert_close(
        chain[0](x), LowPassFilter()(x), rtol=0, atol=1e-5)


def test_init_weights_skips_initialised_base_modules():

    class Counting(BaseModule):

        def __init__(self):
            super().__init__()
            self.calls = 0

        def init_weights(self):
            self.calls += 1
            super().init_weights()

        def forward(self, x):
            return x

    first, second = Counting(), Counting()
    second.init_weights()
    ConnectorSequence(connectors=[first, second]).init_weights()
    assert (first.calls, second.calls) == (1, 1)


def test_step_error_names_the_step_and_its_input():
    chain = ConnectorSequence(connectors=[
        dict(type='TokenToMap'),
        dict(type='LowPassFilter', kernel_sizes=(8, )),
    ])
    with pytest.raises(ValueError, match=r'step 1 \(LowPassFilter\).*'
                       r'\(2, 3, 4, 4\).*kernel size 8.*4x4'):
        chain(torch.randn(2, 16, 3))
    with pytest.raises(ValueError, match=r'step 0 \(TokenToMap\).*N=15'):
        chain(torch.randn(2, 15, 3))


@pytest.mark.parametrize('bad', [[], dict(type='TokenToMap'), None])
def test_rejects_a_non_list(bad):
    with pytest.raises(ValueError, match='non-empty list'):
        ConnectorSequence(connectors=bad)


def test_rejects_a_step_that_is_not_a_config():
    with pytest.raises(TypeError, match='step 1'):
        ConnectorSequence(connectors=[nn.Identity(), 'TokenToMap'])
