"""CIFAR ShuffleNetV1 of the CIFAR-100 knowledge-distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone


class ShuffleUnitV1(nn.Module):
    """ShuffleNetV1 unit: grouped 1x1, shuffle, depthwise 3x3, grouped 1x1.

    With stride 1 the result is ``relu(branch(x) + x)``; with stride 2 it is
    ``relu(cat(branch(x), avgpool3x3(x)))``, so ``out_channels`` counts only
    the branch (the caller subtracts the input width).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels of the branch.
        stride (int): 1 or 2.
        groups (int): Groups of the 1x1 convolutions.
        first_groups (int): Groups of the first 1x1 convolution (and of the
            shuffle after it); the benchmark uses 1 in the very first unit.
    """

    def __init__(self, in_channels, out_channels, stride, groups,
                 first_groups):
        super().__init__()
        mid_channels = out_channels // 4
        self.stride = stride
        self.first_groups = first_groups
        self.conv1 = nn.Conv2d(
            in_channels, mid_channels, 1, groups=first_groups, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(
            mid_channels,
            mid_channels,
            3,
            stride=stride,
            padding=1,
            groups=mid_channels,
            bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(
            mid_channels, out_channels, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride == 2:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(3, stride=2, padding=1))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = channel_shuffle(out, self.first_groups)
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.shortcut(x)
        if self.stride == 2:
            return F.relu(torch.cat([out, identity], dim=1))
        return F.relu(out + identity)


@MODELS.register_module()
class CIFARShuffleNetV1(CIFARBackbone):
    """ShuffleNetV1 (g=3) for 32x32 inputs from the CIFAR-100 KD benchmark.

    The "ShuffleV1" student of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_, after `ShuffleNet: An Extremely
    Efficient Convolutional Neural Network for Mobile Devices
    <https://arxiv.org/abs/1707.01083>`_: a 1x1 stem ``conv1`` (24 channels)
    + ``bn1`` + ReLU, then three stages ``layer1`` .. ``layer3`` of 4, 8, 4
    units whose first unit has stride 2.

    ===== ========== ========================== ========
    stage module     channels (32x32 input)     units
    ===== ========== ========================== ========
    0     ``layer1`` 240@16x16                  4
    1     ``layer2`` 480@8x8                    8
    2     ``layer3`` 960@4x4                    4
    ===== ========== ========================== ========

    About 0.95M parameters with a 100-class linear head. Stage ``i``'s output
    is the post-ReLU map (the benchmark's ``f{i+1}``).

    Checkpoint mapping: benchmark keys load after prefixing ``backbone.``;
    ``linear.*`` maps to ``head.fc.*`` of a ``LinearClsHead``.

    Args:
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (the last stage).
        frozen_stages (int): Freeze the stem and the first ``frozen_stages``
            stages; ``-1`` freezes nothing. Defaults to -1.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (PyTorch's default initialization, as in the
            benchmark).

    Attributes:
        out_channels (tuple[int]): Output channels of every stage, indexed
            like ``out_indices``.
    """

    groups = 3
    stage_channels = (240, 480, 960)
    stage_units = (4, 8, 4)

    def __init__(self,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg)
        stem_channels = 24
        self.conv1 = nn.Conv2d(3, stem_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        in_channels = stem_channels
        for index, (channels, num_units) in enumerate(
                zip(self.stage_channels, self.stage_units)):
            units = []
            for unit_index in range(num_units):
                if unit_index == 0:
                    first_groups = 1 if index == 0 else self.groups
                    units.append(
                        ShuffleUnitV1(in_channels, channels - in_channels, 2,
                                      self.groups, first_groups))
                else:
                    units.append(
                        ShuffleUnitV1(channels, channels, 1, self.groups,
                                      self.groups))
                in_channels = channels
            self.add_module(f'layer{index + 1}', nn.Sequential(*units))

        self._setup_stages(
            stem_names=('conv1', 'bn1'),
            stage_names=[('layer1', ), ('layer2', ), ('layer3', )],
            stage_channels=self.stage_channels,
            out_indices=out_indices,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Run the network.

        Args:
            x (Tensor): Images ``(B, 3, H, W)``.

        Returns:
            tuple[Tensor]: The ``(B, C_i, H_i, W_i)`` outputs of the stages in
            ``out_indices``, in increasing stage order.
        """
        x = F.relu(self.bn1(self.conv1(x)))
        outs = []
        for index in range(self.num_stages):
            x = getattr(self, f'layer{index + 1}')(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
