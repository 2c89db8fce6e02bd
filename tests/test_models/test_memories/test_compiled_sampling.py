"""CRD's negatives drawn inside an inductor-compiled graph.

Inductor replaces torch's ``rand`` in a graph by its own generator, so a
compiled step draws other ``'other_class'`` negatives than an eager step
under the same seed. These tests check that the compiled draws are still
correct (distinct, never the anchor or its class, uniform, repeatable from
the seed) and that with inductor's ``fallback_random`` they are eager's.
"""
import torch

from mmkd_contrast.models.memories.negative_sampling import draw_other_class

ROWS, CLASSES, NUM, ANCHORS = 60, 3, 10, 500
ROW_LABELS = torch.arange(ROWS) % CLASSES


def _draws(options=None, seed=0, compiled=True):
    # Every anchor is row 7 (class 1): 500 independent draws of 10 of the
    # 40 rows of classes 0 and 2.
    sample_idx = torch.full((ANCHORS, ), 7)
    labels = ROW_LABELS[sample_idx]
    draw = draw_other_class
    if compiled:
        torch._dynamo.reset()
        draw = torch.compile(draw, backend='inductor', options=options)
    torch.manual_seed(seed)
    return draw(ROW_LABELS, sample_idx, labels, NUM)


def test_inductor_draws_are_distinct_other_class_and_uniform():
    draws = _draws()
    # Inductor's own generator: another stream than eager's.
    assert not torch.equal(draws.sort(1).values,
                           _draws(compiled=False).sort(1).values)
    assert draws.shape == (ANCHORS, NUM)
    assert (ROW_LABELS[draws] != 1).all()
    assert (draws.sort(1).values.diff(dim=1) > 0).all()  # distinct
    counts = torch.bincount(draws.flatten(), minlength=ROWS).double()
    others = counts[ROW_LABELS != 1]
    assert int(counts[ROW_LABELS == 1].sum()) == 0
    # 40 rows, 5000 picks: chi-square with 39 degrees of freedom, mean 39,
    # sd ~ 8.8 (less without replacement); 110 is 8 sd out.
    expected = ANCHORS * NUM / len(others)
    chi2 = float(((others - expected)**2 / expected).sum())
    assert chi2 < 110, chi2
    # Repeatable from the seed, as an eager run is.
    assert torch.equal(_draws(), draws)
    assert not torch.equal(_draws(seed=1), draws)


def test_fallback_random_draws_what_eager_draws():
    draws = _draws(options=dict(fallback_random=True))
    assert torch.equal(
        draws.sort(1).values,
        _draws(compiled=False).sort(1).values)


def test_draws_trace_with_a_dynamic_batch_size():
    """An epoch's smaller last batch makes the batch size dynamic in a
    compiled step; both draws must trace with a symbolic size."""
    from mmkd_contrast.models.memories.negative_sampling import draw_random

    torch._dynamo.reset()
    other = torch.compile(draw_other_class, backend='eager', dynamic=True)
    uniform = torch.compile(draw_random, backend='eager', dynamic=True)
    for batch in (6, 5):
        sample_idx = torch.arange(batch)
        labels = ROW_LABELS[sample_idx]
        drawn = other(ROW_LABELS, sample_idx, labels, NUM)
        assert drawn.shape == (batch, NUM)
        draws = uniform(sample_idx, ROWS, NUM)
        assert draws.shape == (batch, NUM)
        assert not (draws == sample_idx[:, None]).any()
