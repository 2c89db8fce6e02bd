"""Decoupling of a feature map into L2-normalised local features at several
scales (the sample generator of MSDCRD), as a connector."""
from typing import List, Sequence

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS
from ...utils.multi_scale_pooling import (MultiScalePooling, check_scales,
                                          pooling_matrix)

__all__ = ['MultiScaleDecoupler', 'check_scales', 'pooling_matrix']


@MODELS.register_module()
class MultiScaleDecoupler(nn.Module):
    """Split a feature map into local features on ``k x k`` grids.

    `Contrastive Representation Distillation via Multi-Scale Feature
    Decoupling <https://arxiv.org/abs/2502.05835>`_.

    For each scale ``k`` the map is adaptively average-pooled to ``k x k``;
    each of the ``k**2`` cells is one local feature (regions in row-major
    order), L2-normalised along the channels (eps 1e-12). Scale 1 is the
    global average-pooled feature. The module has no parameters; the pooling
    itself is :class:`~mmkd_contrast.utils.MultiScalePooling`, which
    ``MSDCRDLoss`` runs as its own first step.

    Args:
        scales (Sequence[int]): Grid sizes, distinct positive integers.
            Defaults to ``(1, 2, 4)``.

    Example:
        >>> decoupler = MultiScaleDecoupler(scales=(1, 2))
        >>> [f.shape for f in decoupler(torch.randn(8, 64, 7, 7))]
        [torch.Size([8, 1, 64]), torch.Size([8, 4, 64])]
    """

    def __init__(self, scales: Sequence[int] = (1, 2, 4)) -> None:
        super().__init__()
        self.pooling = MultiScalePooling(scales, type(self).__name__)
        self.scales = self.pooling.scales
        self.region_counts = self.pooling.region_counts

    def decouple(self, x: torch.Tensor) -> torch.Tensor:
        """The local features of every scale, concatenated, ``(B, sum(k**2),
        C)`` (see :meth:`MultiScalePooling.decouple`)."""
        return self.pooling.decouple(x)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Decouple a feature map.

        Args:
            x (Tensor): Feature map ``(B, C, H, W)``; every scale must satisfy
                ``k <= H`` and ``k <= W``.

        Returns:
            list[Tensor]: One ``(B, k**2, C)`` tensor per scale, in the order
            of ``scales``; region ``m`` is row ``m // k``, column ``m % k``
            of the grid.
        """
        return list(self.decouple(x).split(self.region_counts, dim=1))
