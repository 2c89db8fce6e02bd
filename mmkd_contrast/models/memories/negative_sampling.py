"""Draws of negative rows from a memory bank, never the anchor's own row."""
import torch

#: The negative samplings :class:`CRDMemoryBank` knows.
NEG_SAMPLINGS = ('random', 'other_class')


def _generator_kwarg(generator):
    """``generator=`` only when one is given: a compiled step whose batch
    size became dynamic (an epoch's smaller last batch) fails to trace
    ``torch.rand(shape, generator=None)`` with a symbolic shape."""
    return {} if generator is None else dict(generator=generator)


def draw_random(sample_idx, num_rows, num, generator=None):
    """Draw ``num`` rows per anchor uniformly among the ``num_rows - 1``
    rows other than the anchor's own, with replacement.

    One ``randint`` over ``[0, num_rows - 1)``, then every draw at or above
    the anchor's row moves up by one, skipping it.

    Args:
        sample_idx (Tensor): ``(B,)`` long row of each anchor.
        num_rows (int): Rows in the bank.
        num (int): Rows per anchor.
        generator (torch.Generator, optional): Source of randomness, on
            ``sample_idx``'s device. Defaults to the global generator.

    Returns:
        Tensor: ``(B, num)`` long rows.
    """
    shape = (sample_idx.numel(), num)
    draw = torch.randint(
        0, num_rows - 1, shape, device=sample_idx.device,
        **_generator_kwarg(generator))
    return draw + (draw >= sample_idx[:, None]).long()


def draw_other_class(row_labels, sample_idx, labels, num, generator=None):
    """Draw ``num`` distinct rows per anchor, none of the anchor's class.

    Each anchor gets a uniformly random ``num``-subset of the rows whose
    label differs from its own, independently of the other anchors: every
    row gets a uniform random key, rows of the anchor's class get 1 added
    (so they sort after every other-class row), the anchor's own row gets
    3, and the ``num`` smallest keys are taken with one ``topk`` over the
    ``(B, N)`` keys. No Python loop over the batch, no host-device
    synchronisation, and the random numbers consumed depend only on the
    shapes: processes seeded alike draw alike.

    If fewer than ``num`` rows have another label, the remainder are rows
    of the anchor's own class (never the anchor's own row), drawn at
    random; this cannot happen when ``num`` is at most ``N`` minus the
    largest class.

    Args:
        row_labels (Tensor): ``(N,)`` label of every bank row (``-1``:
            not seen yet, which is a label no anchor has).
        sample_idx (Tensor): ``(B,)`` long row of each anchor.
        labels (Tensor): ``(B,)`` label of each anchor.
        num (int): Rows per anchor, at most ``N - 1``.
        generator (torch.Generator, optional): Source of randomness, on the
            rows' device. Defaults to the global generator.

    Returns:
        Tensor: ``(B, num)`` long rows, distinct within each anchor's row,
        in no particular order.
    """
    shape = (sample_idx.numel(), row_labels.numel())
    keys = torch.rand(
        shape, device=row_labels.device, **_generator_kwarg(generator))
    keys.add_(row_labels[None, :] == labels.long()[:, None])
    keys.scatter_(1, sample_idx[:, None], 3.)
    return keys.topk(num, dim=1, largest=False, sorted=False).indices
