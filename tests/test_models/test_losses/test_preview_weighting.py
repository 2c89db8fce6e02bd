import math

import pytest
import torch

from mmkd_contrast.models import PreviewWeighting
from mmkd_contrast.registry import MODELS


def reference_weights(ce, threshold):
    ce = [float(c) for c in ce]
    mean = sum(ce) / len(ce)
    weights = []
    for c in ce:
        gamma = c / mean
        weights.append(1.0 if gamma <= threshold else math.exp(-gamma**2))
    return torch.tensor(weights)


# Per-sample CE with gamma = CE / mean in 0.034 .. 5.1 (0.68, 1.09, 1.50,
# 2.25, 3.07, 5.12 among them): each threshold of the 240-epoch schedule
# down-weights a different number of samples (5, 4, 3, 1).
CE = torch.tensor([0.05] * 8 + [1.0, 1.6, 2.2, 3.3, 4.5, 7.5])


@pytest.mark.parametrize('epoch, threshold', [(1, 1.005), (60, 1.349),
                                              (150, 2.113), (240, 3.31)])
def test_thresholds_and_weights_of_the_240_epoch_schedule(epoch, threshold):
    preview = PreviewWeighting(base=1.005)
    assert preview.threshold(epoch) == pytest.approx(threshold, abs=1e-3)
    v = preview(CE, epoch)
    assert torch.allclose(v, reference_weights(CE, 1.005**epoch), atol=1e-6)
    assert (v < 1).any()


def test_fewer_samples_down_weighted_as_epochs_go_on():
    preview = PreviewWeighting()
    counts = [int((preview(CE, e) < 1).sum()) for e in (1, 60, 150, 240)]
    assert counts == [5, 4, 3, 1]


def test_final_threshold_with_max_epochs():
    preview = PreviewWeighting(final_threshold=3.31, max_epochs=10)
    assert preview.base == pytest.approx(3.31**0.1)
    assert preview.threshold(10) == pytest.approx(3.31)
    for epoch in (1, 5, 10):
        threshold = 3.31**(epoch / 10)
        assert torch.allclose(preview(CE, epoch),
                              reference_weights(CE, threshold), atol=1e-6)


def test_max_epochs_set_later_and_missing():
    preview = PreviewWeighting(final_threshold=3.31)
    with pytest.raises(RuntimeError, match='max_epochs'):
        preview(CE, 1)
    preview.set_max_epochs(10)
    assert torch.allclose(preview(CE, 10), reference_weights(CE, 3.31),
                          atol=1e-6)
    with pytest.raises(ValueError, match='max_epochs'):
        preview.set_max_epochs(0)


def test_epoch_is_one_based():
    with pytest.raises(ValueError, match='epoch=0'):
        PreviewWeighting()(CE, 0)


def test_weights_are_detached_and_all_zero_ce_gives_ones():
    ce = CE.clone().requires_grad_(True)
    v = PreviewWeighting()(ce, 1)
    assert not v.requires_grad
    assert torch.equal(PreviewWeighting()(torch.zeros(4), 1), torch.ones(4))


def test_bad_ce_shape_and_registry():
    with pytest.raises(ValueError, match=r'\(2, 3\)'):
        PreviewWeighting()(torch.ones(2, 3), 1)
    preview = MODELS.build(dict(type='PreviewWeighting', final_threshold=2.0,
                                max_epochs=4))
    assert preview.threshold(4) == pytest.approx(2.0)


def test_weights_from_a_tensor_threshold_equal_forward():
    """A compiled PCKD step hands the threshold as a 0-d tensor."""
    weighting = PreviewWeighting(base=1.2)
    ce = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0])
    for epoch in (1, 3, 8):
        threshold = torch.tensor(weighting.threshold(epoch))
        assert torch.equal(weighting.weights(ce, threshold),
                           weighting(ce, epoch))
    assert not torch.equal(weighting(ce, 1), weighting(ce, 8))
