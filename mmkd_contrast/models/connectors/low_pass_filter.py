"""Fixed multi-scale low-pass filter: average pooling, then upsampling."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS


def check_kernel_sizes(kernel_sizes, owner):
    """Validate ``kernel_sizes`` and return it as a tuple of ints.

    Args:
        kernel_sizes (Sequence[int]): Pooling kernel sizes.
        owner (str): Class name used in the error message.

    Returns:
        tuple[int]: The kernel sizes.
    """
    if isinstance(kernel_sizes, int):
        kernel_sizes = (kernel_sizes, )
    kernel_sizes = tuple(kernel_sizes)
    if len(kernel_sizes) == 0 or not all(
            isinstance(k, int) and k >= 1 for k in kernel_sizes):
        raise ValueError(f'{owner}: kernel_sizes must be a non-empty sequence '
                         f'of positive ints, got {kernel_sizes!r}')
    return kernel_sizes


def low_frequency_components(x, kernel_sizes):
    """The low-frequency components ``L_k(x)`` of a map, one per kernel.

    ``L_k(x) = interpolate(avg_pool2d(x, k, stride=k, ceil_mode=True),
    size=(H, W), mode='bilinear', align_corners=False)``.

    When ``k`` does not divide ``H`` (or ``W``), the last window along that
    axis is partial and averages only the pixels inside the map (no zero
    padding is counted), so a constant map still passes exactly, but a
    pattern that cancels over full windows may leave a residue near that
    border: a checkerboard (even ``k``) does wherever a partial window holds
    an odd number of pixels (e.g. the 1x1 corner window of a 5x5 map with
    ``k = 2``). With every ``k`` dividing ``H`` and ``W`` it is removed
    exactly.

    Args:
        x (Tensor): ``(B, C, H, W)`` map.
        kernel_sizes (Sequence[int]): Pooling kernel sizes, each at most
            ``min(H, W)``.

    Returns:
        list[Tensor]: ``len(kernel_sizes)`` maps of the shape of ``x``.
    """
    if not torch.is_tensor(x) or x.dim() != 4:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError('The low-pass filter expects a map (B, C, H, W), got '
                         f'{shape}; turn tokens into a map with TokenToMap')
    height, width = x.shape[-2:]
    components = []
    for k in kernel_sizes:
        if k > height or k > width:
            raise ValueError(
                f'Low-pass kernel size {k} is larger than the map size '
                f'{height}x{width}; use smaller kernel_sizes for this map')
        pooled = F.avg_pool2d(x, k, stride=k, ceil_mode=True)
        components.append(
            F.interpolate(
                pooled,
                size=(height, width),
                mode='bilinear',
                align_corners=False))
    return components


@MODELS.register_module()
class LowPassFilter(nn.Module):
    """Fixed multi-scale low-pass filter (the teacher side of LFCC).

    `Low-Frequency Components for Heterogeneous Knowledge Distillation
    <https://arxiv.org/abs/2405.18524>`_.

    The output is the mean over ``k`` of ``L_k(x)``, the map average-pooled
    with kernel and stride ``k`` (``ceil_mode=True``) and bilinearly
    upsampled back to ``(H, W)`` (see :func:`low_frequency_components`). A
    constant map passes unchanged; a ``+-1`` checkerboard whose size every
    kernel divides is removed. The filter has no parameters.

    Args:
        kernel_sizes (int | Sequence[int]): Pooling kernel sizes. Defaults
            to ``(2, 4)``.
    """

    def __init__(self,
                 kernel_sizes: Union[int, Sequence[int]] = (2, 4)) -> None:
        super().__init__()
        self.kernel_sizes = check_kernel_sizes(kernel_sizes, 'LowPassFilter')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter a map.

        Args:
            x (Tensor): ``(B, C, H, W)`` map, ``H`` and ``W`` at least the
                largest kernel size.

        Returns:
            Tensor: The low-frequency map, shape ``(B, C, H, W)``.
        """
        components = low_frequency_components(x, self.kernel_sizes)
        return torch.stack(components).mean(dim=0)

    def extra_repr(self):
        return f'kernel_sizes={self.kernel_sizes}'
