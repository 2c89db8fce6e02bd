"""Learnable multi-scale low-pass filter, started as the fixed one."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .low_pass_filter import check_kernel_sizes, low_frequency_components


@MODELS.register_module()
class LearnableLowPassFilter(nn.Module):
    """Learnable multi-scale low-pass filter (the student side of LFCC).

    `Low-Frequency Components for Heterogeneous Knowledge Distillation
    <https://arxiv.org/abs/2405.18524>`_.

    A 3x3 convolution (padding 1) over ``concat[x, L_k(x) for k]`` back to
    ``C`` channels, where ``L_k`` are the components of
    :class:`LowPassFilter`. The convolution is initialised so that the
    output equals :class:`LowPassFilter`'s (the mean of the ``L_k``) up to
    float rounding: the centre tap of output channel ``c`` reads channel
    ``c`` of every ``L_k`` with weight ``1 / len(kernel_sizes)``; every other
    weight and the bias are zero.

    :meth:`init_weights` restores that initialisation, so an mmengine
    ``init_weights()`` call from a parent module that reaches this module
    keeps the low-pass start.

    With ``per_channel=True`` output channel ``c`` reads only channel ``c``
    of ``x`` and of every ``L_k(x)`` (a grouped convolution, ``C`` groups of
    ``1 + len(kernel_sizes)`` input channels, computed as a sum of depthwise
    convolutions): a learnable spatial filter per channel, ``C`` times
    cheaper than the dense convolution, with the same low-pass start; the
    LFCC configs use it. The dense convolution (the default) also mixes
    channels, which costs ``9 * (1 + len(kernel_sizes)) * C^2``
    multiply-adds per pixel.

    Args:
        in_channels (int): Channels ``C`` of the input map.
        kernel_sizes (int | Sequence[int]): Pooling kernel sizes. Defaults
            to ``(2, 4)``.
        per_channel (bool): Filter each channel on its own instead of mixing
            channels. Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 kernel_sizes: Union[int, Sequence[int]] = (2, 4),
                 per_channel: bool = False) -> None:
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError('LearnableLowPassFilter: in_channels must be a '
                             f'positive int, got {in_channels!r}')
        self.in_channels = in_channels
        self.kernel_sizes = check_kernel_sizes(kernel_sizes,
                                               'LearnableLowPassFilter')
        self.per_channel = bool(per_channel)
        self.conv = nn.Conv2d(
            in_channels * (1 + len(self.kernel_sizes)),
            in_channels,
            kernel_size=3,
            padding=1,
            groups=in_channels if self.per_channel else 1)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self):
        """Set the convolution to the mean of the fixed components."""
        self.conv.weight.zero_()
        self.conv.bias.zero_()
        num_kernels = len(self.kernel_sizes)
        if self.per_channel:
            # Group c holds [x_c, L_k(x)_c for k]; position j + 1 is L_k for
            # the j-th kernel.
            self.conv.weight[:, 1:, 1, 1] = 1.0 / num_kernels
            return
        channels = torch.arange(self.in_channels)
        for j in range(num_kernels):
            # Input block j + 1 holds L_k for the j-th kernel.
            self.conv.weight[channels, (j + 1) * self.in_channels + channels,
                             1, 1] = 1.0 / num_kernels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter a map.

        Args:
            x (Tensor): ``(B, C, H, W)`` map, ``H`` and ``W`` at least the
                largest kernel size.

        Returns:
            Tensor: The filtered map, shape ``(B, C, H, W)``.
        """
        if torch.is_tensor(x) and x.dim() == 4 and \
                x.shape[1] != self.in_channels:
            raise ValueError(
                f'LearnableLowPassFilter expects {self.in_channels} input '
                f'channels, got {x.shape[1]} (input shape {tuple(x.shape)})')
        components = low_frequency_components(x, self.kernel_sizes)
        if self.per_channel:
            # The grouped convolution written as one depthwise convolution
            # per component, summed: the same result, and depthwise kernels
            # are much faster than C groups of 1 + K channels.
            weight, bias = self.conv.weight, self.conv.bias
            out = None
            for j, component in enumerate([x] + components):
                term = F.conv2d(
                    component,
                    weight[:, j:j + 1],
                    bias if j == 0 else None,
                    padding=1,
                    groups=self.in_channels)
                out = term if out is None else out + term
            return out
        return self.conv(torch.cat([x] + components, dim=1))

    def extra_repr(self):
        return (f'in_channels={self.in_channels}, '
                f'kernel_sizes={self.kernel_sizes}, '
                f'per_channel={self.per_channel}')
