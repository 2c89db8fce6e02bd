"""Copies of a tensor that a backward pass needs, reused once it has run."""
import torch


class RecycledCopies:
    """A pool of scratch copies, one free copy kept per key.

    A product ``anchors @ bank.t()`` keeps ``bank`` for its backward pass;
    when ``bank`` is changed in place before that (a memory bank updated in
    the same forward call), the product must keep a copy instead. Copying
    into a fresh tensor at every step costs an allocation of the bank's
    size; this pool hands out the copy of an earlier step again once that
    step's backward has run. A copy still held by a graph (a second call
    before the first backward) is never handed out: the pool then allocates
    a new one.

    Scratch space, not state: nothing here belongs in a state dict.

    Example:
        >>> pool = RecycledCopies()
        >>> bank = torch.randn(5, 3)
        >>> x = torch.randn(2, 3, requires_grad=True)
        >>> copy = pool.copy_of('bank', bank)
        >>> out = pool.release_after_backward('bank', copy, x @ copy.t())
        >>> out.sum().backward()
        >>> pool.copy_of('bank', bank) is copy
        True
    """

    def __init__(self):
        self._free = {}

    def copy_of(self, key, tensor):
        """A copy of ``tensor``, in a free copy of the same kind if there
        is one.

        Args:
            key (Hashable): Which copy; one free copy is kept per key.
            tensor (Tensor): What to copy.

        Returns:
            Tensor: The copy, not shared with any live graph.
        """
        copy = self._free.pop(key, None)
        if copy is None or copy.shape != tensor.shape or (
                copy.device != tensor.device) or copy.dtype != tensor.dtype:
            copy = torch.empty_like(tensor)
        return copy.copy_(tensor)

    def release_after_backward(self, key, copy, output):
        """Free ``copy`` for reuse once ``output``'s backward has run.

        Args:
            key (Hashable): The key ``copy`` was made under.
            copy (Tensor): A copy returned by :meth:`copy_of`.
            output (Tensor): The result, with a ``grad_fn``, of the
                operation that keeps ``copy`` for its backward pass.

        Returns:
            Tensor: ``output``, unchanged.
        """
        output.grad_fn.register_hook(
            lambda *_: self._free.__setitem__(key, copy))
        return output
