"""Which batch position a row written from a batch takes its value from."""
import torch


def last_occurrences(indices):
    """The rows to write and, for each, the batch position whose value it
    takes: the last occurrence of its index.

    A batch holding an image twice then writes the same, deterministic
    value into its row from every occurrence. Sizes do not depend on the
    values (no ``unique``, no sync with a GPU): the rows are ``indices``
    themselves, duplicates included, so an ``index_copy_`` with them writes
    one value per row however often it repeats.

    Args:
        indices (Tensor): ``(B,)`` long row indices, possibly repeated.

    Returns:
        tuple[Tensor, Tensor]: ``indices`` and the ``(B,)`` long position
        of the last occurrence of each entry.

    Example:
        >>> last_occurrences(torch.tensor([3, 8, 3, 0]))[1]
        tensor([2, 1, 2, 3])
    """
    positions = torch.arange(indices.numel(), device=indices.device)
    same = indices[:, None] == indices[None, :]
    last = torch.where(same, positions[None, :], -1).amax(dim=1)
    return indices, last
