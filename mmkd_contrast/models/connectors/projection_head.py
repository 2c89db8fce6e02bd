from typing import List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class ProjectionHead(BaseModule):
    """Embedding head: a linear map (or a small MLP) of a feature vector,
    optionally L2-normalised.

    It is the embedding head of CRD, `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_, where each network's pooled
    penultimate feature goes through ``Linear(d -> 128)`` and an L2
    normalisation; with ``hidden_channels`` it becomes
    ``Linear -> BN1d -> ReLU -> Linear``.

    Accepted inputs:

    - ``(B, C)`` vectors;
    - ``(B, C, H, W)`` maps, globally average-pooled to ``(B, C)`` first;
    - a tuple or list (mmpretrain backbones and necks return tuples): its last
      element is used, then treated as above.

    Args:
        in_channels (int): ``C`` of the input feature.
        out_channels (int): Size of the embedding.
        hidden_channels (int, optional): Width of the hidden layer. When None
            the head is one ``Linear``. Defaults to None.
        norm (bool): L2-normalise the output along dim 1. Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None (PyTorch's default initialisation).

    Example:
        >>> import torch
        >>> head = ProjectionHead(in_channels=256, out_channels=128)
        >>> head(torch.randn(4, 256, 8, 8)).shape
        torch.Size([4, 128])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hidden_channels: Optional[int] = None,
                 norm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels),
                            ('out_channels', out_channels),
                            ('hidden_channels', hidden_channels)):
            if value is not None and (not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f'ProjectionHead: {name} must be a positive '
                                 f'int, got {value!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.norm = norm
        if hidden_channels is None:
            self.proj = nn.Linear(in_channels, out_channels)
        else:
            self.proj = nn.Sequential(
                nn.Linear(in_channels, hidden_channels),
                nn.BatchNorm1d(hidden_channels),
                nn.ReLU(inplace=True),
                nn.Linear(hidden_channels, out_channels),
            )

    def forward(self,
                x: Union[torch.Tensor, tuple, list]) -> torch.Tensor:
        """Embed a feature.

        Args:
            x (Tensor or tuple[Tensor] or list[Tensor]): ``(B, C)`` or
                ``(B, C, H, W)``, or a sequence whose last element is one of
                them.

        Returns:
            Tensor: ``(B, out_channels)``, of unit L2 norm per row when
            ``norm`` is True.
        """
        if isinstance(x, (tuple, list)):
            if len(x) == 0:
                raise ValueError('ProjectionHead got an empty sequence of '
                                 'features')
            x = x[-1]
        if x.dim() == 4:
            shape = tuple(x.shape)
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        elif x.dim() == 2:
            shape = tuple(x.shape)
        else:
            raise ValueError(
                'ProjectionHead expects a (B, C) vector or a (B, C, H, W) map '
                f'with C = in_channels = {self.in_channels}, got shape '
                f'{tuple(x.shape)}')
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'ProjectionHead expects in_channels = {self.in_channels} '
                f'channels on dim 1, got input of shape {shape}')
        x = self.proj(x)
        if self.norm:
            x = F.normalize(x, dim=1)
        return x
