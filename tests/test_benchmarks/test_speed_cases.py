"""What the speed benchmarks share: the fixed random batch, the case
builder and the method tables' rows, on a tiny model and made-up timings."""
import os.path as osp
import sys

import torch
from torch import nn

BENCHMARKS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'benchmarks')
sys.path.insert(0, BENCHMARKS)

from speed_cases import random_batch, training_case  # noqa: E402
from speed_utils import case_rows, verdict  # noqa: E402


def test_random_batch_is_fixed_and_indexed_on_request():
    inputs, samples = random_batch(4, 10, 8)
    again, _ = random_batch(4, 10, 8)
    assert inputs.shape == (4, 3, 8, 8)
    assert torch.equal(inputs, again)
    assert all(0 <= int(s.gt_label) < 10 for s in samples)
    assert 'sample_idx' not in samples[0]

    _, indexed = random_batch(4, 10, 8, num_samples=100)
    indices = [s.sample_idx for s in indexed]
    assert len(set(indices)) == 4 and all(0 <= i < 100 for i in indices)


class TinyModel(nn.Module):
    """An mmengine-style model: ``loss`` mode returns a dict of losses."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, inputs, data_samples, mode='loss'):
        return dict(loss=self.fc(inputs.mean((2, 3))).pow(2).mean())


def test_training_case_builds_a_model_that_learns():
    seen = []

    def make_batch(model):
        seen.append(model)
        return random_batch(2, 2, 4)

    step = training_case(TinyModel, make_batch)()
    before = seen[0].fc.weight.detach().clone()
    step()
    assert not torch.equal(before, seen[0].fc.weight)


def test_case_rows_keep_the_column_order_of_the_tables():
    timings = dict(KD=dict(median=0.2, times=[0.2]),
                   LFCC=dict(median=0.21, times=[0.21]))
    peaks = dict(KD=('cpu', 100.4), LFCC=('cpu', 120.0))
    rows = case_rows(timings, peaks, 'KD', 3,
                     between=lambda name, timing: {'mid': name.lower()},
                     after=lambda name, timing: {'last': timing['times']})
    assert list(rows[1]) == ['case', 'ms / iter (median)', 'mid', 'x KD',
                             'peak memory (MiB, cpu)', 'last']
    assert rows[1]['x KD'] == '1.050' and rows[1]['last'] == [0.21]
    assert rows[0]['peak memory (MiB, cpu)'] == '100'
    assert list(case_rows(timings, peaks, 'LFCC', 2)[0]) == [
        'case', 'ms / iter (median)', 'x LFCC', 'peak memory (MiB, cpu)']
    assert (verdict(True), verdict(False)) == ('met', 'MISSED')
