"""The BatchNorm re-estimation of benchmarks/bn_recalibration.py."""
import os.path as osp
import sys

import torch
from torch import nn

sys.path.insert(
    0, osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))),
                'benchmarks'))
import bn_recalibration  # noqa: E402


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(3)
        self.data_preprocessor = lambda batch, training: dict(inputs=batch)

    def forward(self, inputs, mode='tensor'):
        return self.bn(inputs)


def test_statistics_are_the_plain_average_over_the_images():
    torch.manual_seed(0)
    net = Net()
    net.bn.running_mean.fill_(100.)
    weight = net.bn.weight.detach().clone()
    batches = [torch.randn(8, 3) * 2 + 5 for _ in range(4)]
    bn_recalibration.recalibrate(net, batches)
    data = torch.cat(batches)
    assert torch.allclose(net.bn.running_mean, data.mean(0), atol=1e-5)
    # momentum None averages each batch's unbiased variance
    var = torch.stack([b.var(0) for b in batches]).mean(0)
    assert torch.allclose(net.bn.running_var, var, atol=1e-5)
    assert torch.equal(net.bn.weight, weight)
    assert not net.training
