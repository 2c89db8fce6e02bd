"""Adaptive average pooling of a feature map to several ``k x k`` grids as
one matrix product: the decoupling step of MSDCRD, shared by the
``MultiScaleDecoupler`` connector and ``MSDCRDLoss``."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

__all__ = ['MultiScalePooling', 'check_scales', 'pooling_matrix']


def check_scales(scales, owner):
    """Validate a set of decoupling scales and return it as a tuple.

    Args:
        scales (Sequence[int]): Grid sizes ``k``; each must be a positive
            integer and appear once.
        owner (str): Name of the calling class, used in the error message.

    Returns:
        tuple[int]: The scales, in the given order.
    """
    try:
        scales = tuple(scales)
    except TypeError:
        raise TypeError(f'{owner}: scales must be a sequence of positive '
                        f'integers, got {scales!r}') from None
    if not scales:
        raise ValueError(f'{owner}: scales must not be empty')
    for k in scales:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f'{owner}: every scale must be a positive '
                             f'integer, got {k!r} in scales={scales}')
    if len(set(scales)) != len(scales):
        raise ValueError(
            f'{owner}: scales must not repeat, got scales={scales}')
    return scales


def _pooling_weights(size, k, dtype, device):
    """``(k, size)`` weights of 1-D adaptive average pooling to ``k`` cells:
    cell ``r`` averages ``[floor(r*size/k), ceil((r+1)*size/k))``."""
    weights = torch.zeros(k, size, dtype=dtype, device=device)
    for r in range(k):
        start, end = (r * size) // k, -((-(r + 1) * size) // k)
        weights[r, start:end] = 1.0 / (end - start)
    return weights


def pooling_matrix(height, width, scales, dtype=torch.float32, device=None):
    """The adaptive average pooling of an ``height x width`` map to every
    ``k x k`` grid of ``scales``, as one linear map.

    Args:
        height (int): Map height.
        width (int): Map width.
        scales (Sequence[int]): Grid sizes, each at most ``height`` and
            ``width``.
        dtype (torch.dtype): Matrix dtype. Defaults to float32.
        device (torch.device, optional): Matrix device.

    Returns:
        Tensor: ``(sum(k**2), height * width)``, one row of pixel weights per
        region: this matrix times a map flattened to ``(height * width, ...)``
        gives the regions of every scale in turn, each scale's in row-major
        order, exactly as ``F.adaptive_avg_pool2d`` computes them.
    """
    blocks = []
    for k in scales:
        rows = _pooling_weights(height, k, dtype, device)  # (k, H)
        cols = _pooling_weights(width, k, dtype, device)  # (k, W)
        # Region (r, c) weights pixel (h, w) by rows[r, h] * cols[c, w].
        block = rows[:, None, :, None] * cols[None, :, None, :]
        blocks.append(block.reshape(k * k, height * width))
    return torch.cat(blocks)


class MultiScalePooling:
    """Split feature maps into L2-normalised local features on ``k x k``
    grids (no parameters, not a module).

    For each scale ``k`` the map is adaptively average-pooled to ``k x k``;
    each of the ``k**2`` cells is one local feature (regions in row-major
    order), L2-normalised along the channels (eps 1e-12). The pooling
    matrices are kept per input size, dtype and device.

    Args:
        scales (Sequence[int]): Grid sizes, distinct positive integers.
        owner (str): The class name errors are reported under.
    """

    def __init__(self, scales: Sequence[int], owner: str) -> None:
        self.scales = check_scales(scales, owner)
        self.owner = owner
        self.region_counts: List[int] = [k * k for k in self.scales]
        self._matrices: Dict[Tuple, torch.Tensor] = {}

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is ``(B, C, H, W)`` with every
        scale at most ``H`` and ``W``."""
        if x.dim() != 4:
            raise ValueError(
                f'{self.owner} expects a feature map (B, C, H, W), '
                f'got shape {tuple(x.shape)}')
        height, width = x.shape[-2:]
        for k in self.scales:
            if k > height or k > width:
                raise ValueError(
                    f'{self.owner}: scale {k} is larger than the '
                    f'feature map of size {height}x{width}; every scale must '
                    'be at most the map height and width')

    def decouple(self, x: torch.Tensor) -> torch.Tensor:
        """The local features of every scale, concatenated.

        All scales are pooled by one matrix product (the pooling is linear),
        which is faster than one adaptive pooling per scale, forward and
        backward.

        Args:
            x (Tensor): Feature map ``(B, C, H, W)``; every scale must satisfy
                ``k <= H`` and ``k <= W``.

        Returns:
            Tensor: ``(B, sum(k**2), C)``: the ``k**2`` regions of the first
            scale, then those of the next, each L2-normalised along ``C``.
        """
        self.check_input(x)
        height, width = x.shape[-2:]
        batch, channels = x.shape[:2]
        key = (height, width, x.dtype, x.device)
        if torch.compiler.is_compiling():
            # A constant of the compiled graph; filling the cache would
            # change a guarded dict and recompile at the next step.
            matrix = pooling_matrix(height, width, self.scales, x.dtype,
                                    x.device)
        else:
            if key not in self._matrices:
                self._matrices[key] = pooling_matrix(
                    height, width, self.scales, x.dtype, x.device)
            matrix = self._matrices[key]
        # Pixels as rows: (H*W, B*C), a transposed view (no copy).
        pixels = x.flatten(2).permute(2, 0, 1).reshape(height * width, -1)
        # In the input's dtype, as adaptive pooling would be, even under AMP.
        with torch.autocast(device_type=x.device.type, enabled=False):
            pooled = torch.mm(matrix, pixels)  # (R, B*C)
        # Normalised in the (R, B, C) layout, which the per-region products
        # over images use as is (contiguous matrices per region); returned
        # as a (B, R, C) view.
        local = F.normalize(
            pooled.view(-1, batch, channels), dim=-1, eps=1e-12)
        return local.transpose(0, 1)
