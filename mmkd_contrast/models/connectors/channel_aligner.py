"""A 1x1 convolution + BatchNorm that maps student channels to the
teacher's."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class ChannelAligner(BaseModule):
    """Map a student feature map to the teacher's channel count.

    Used by `Contrastive Representation Distillation via Multi-Scale Feature
    Decoupling <https://arxiv.org/abs/2502.05835>`_ where the student and
    teacher maps have different channels: ``Conv2d(in_channels,
    out_channels, 1, bias=False)`` followed by ``BatchNorm2d(out_channels)``;
    the spatial size is unchanged.

    It is a training-only connector: it is trained with the student by the
    distillation loss but is not part of the exported student, so the student
    needs no extra parameters at inference.

    Args:
        in_channels (int): Channels of the student map.
        out_channels (int): Channels of the teacher map.
        init_cfg (dict | list[dict], optional): Initialisation config, as
            for any mmengine ``BaseModule``. Defaults to None (PyTorch's
            default initialisation).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('out_channels', out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) \
                    or value < 1:
                raise ValueError(f'ChannelAligner: {name} must be a positive '
                                 f'integer, got {value!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map the channels.

        Args:
            x (Tensor): Student map ``(B, in_channels, H, W)``.

        Returns:
            Tensor: ``(B, out_channels, H, W)``.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ChannelAligner expects a map (B, {self.in_channels}, H, W) '
                f'with in_channels={self.in_channels}, got shape '
                f'{tuple(x.shape)} ({x.shape[1] if x.dim() > 1 else "no"} '
                'channels)')
        return self.bn(self.conv(x))
