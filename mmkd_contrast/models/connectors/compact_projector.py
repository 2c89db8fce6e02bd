"""Projection of a feature map into LFCC's compact embedding space."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class CompactProjector(BaseModule):
    """Project a map into a compact, L2-normalised vector.

    `Low-Frequency Components for Heterogeneous Knowledge Distillation
    <https://arxiv.org/abs/2405.18524>`_.

    ``1x1 conv (C -> D) -> BN -> ReLU -> 1x1 conv (D -> D)``, adaptive
    average pooling to a ``grid x grid`` map, flattening to ``D * grid^2``
    and L2 normalisation. One projector per network side; both are trained
    (the teacher's runs on the frozen teacher feature).

    The last 1x1 convolution is affine per pixel and adaptive average
    pooling averages pixels with weights summing to one, so the two commute:
    the convolution runs on the pooled ``grid x grid`` map, which gives the
    same result for a fraction of the cost on large maps.

    Args:
        in_channels (int): Channels ``C`` of the input map.
        out_channels (int): Channels ``D`` of the compact space. Defaults to
            256.
        grid (int): Side of the pooled grid. Defaults to 2.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.

    Example:
        >>> proj = CompactProjector(in_channels=64, out_channels=32)
        >>> proj(torch.randn(4, 64, 7, 7)).shape
        torch.Size([4, 128])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 grid: int = 2,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('out_channels', out_channels), ('grid', grid)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'CompactProjector: {name} must be a '
                                 f'positive int, got {value!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.grid = grid
        self.proj = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project a map.

        Args:
            x (Tensor): ``(B, C, H, W)`` map.

        Returns:
            Tensor: ``(B, D * grid^2)``, unit L2 norm per row.
        """
        if not torch.is_tensor(x) or x.dim() != 4:
            shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError('CompactProjector expects a map (B, C, H, W), '
                             f'got {shape}; turn tokens into a map with '
                             'TokenToMap')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'CompactProjector expects {self.in_channels} input channels, '
                f'got {x.shape[1]} (input shape {tuple(x.shape)})')
        hidden = self.proj[:3](x)  # conv, BN, ReLU
        x = self.proj[3](F.adaptive_avg_pool2d(hidden, self.grid))
        return F.normalize(x.flatten(1), dim=1, eps=1e-12)
