"""Shapes of (nested) tensors for error messages."""
import torch


def shape_of(x):
    """The shape of ``x`` as a tuple, recursing into tuples and lists.

    Anything else is described by its type name, so that an error message
    can show what a module received without formatting tensor values.

    Example:
        >>> shape_of((torch.zeros(2, 3), [torch.zeros(4)], None))
        ((2, 3), [(4,)], 'NoneType')
    """
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    if isinstance(x, (tuple, list)):
        return type(x)(shape_of(v) for v in x)
    return type(x).__name__
