"""CIFAR ShuffleNetV2 of the CIFAR-100 knowledge-distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.utils import channel_shuffle

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone, select_arch


class ShuffleUnitV2(nn.Module):
    """Stride-1 ShuffleNetV2 unit.

    The input is split in two halves; the second goes through
    ``1x1-BN-ReLU, depthwise 3x3-BN, 1x1-BN-ReLU``, is concatenated after the
    untouched first half, and the channels are shuffled in 2 groups.

    Args:
        channels (int): Input and output channels (even).
    """

    def __init__(self, channels):
        super().__init__()
        half = channels // 2
        self.conv1 = nn.Conv2d(half, half, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(
            half, half, 3, padding=1, groups=half, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv3 = nn.Conv2d(half, half, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(half)

    def forward(self, x):
        half = x.shape[1] // 2
        kept, branch = x[:, :half], x[:, half:]
        out = F.relu(self.bn1(self.conv1(branch)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([kept, out], dim=1), 2)


class ShuffleDownUnitV2(nn.Module):
    """Stride-2 ShuffleNetV2 unit with two branches.

    Left: ``depthwise 3x3/2-BN (conv1, bn1), 1x1-BN-ReLU (conv2, bn2)``.
    Right: ``1x1-BN-ReLU (conv3, bn3), depthwise 3x3/2-BN (conv4, bn4),
    1x1-BN-ReLU (conv5, bn5)``. Both give ``out_channels // 2`` channels;
    they are concatenated (left first) and shuffled in 2 groups.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        mid = out_channels // 2
        self.conv1 = nn.Conv2d(
            in_channels,
            in_channels,
            3,
            stride=2,
            padding=1,
            groups=in_channels,
            bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(
            mid, mid, 3, stride=2, padding=1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        left = self.bn1(self.conv1(x))
        left = F.relu(self.bn2(self.conv2(left)))
        right = F.relu(self.bn3(self.conv3(x)))
        right = self.bn4(self.conv4(right))
        right = F.relu(self.bn5(self.conv5(right)))
        return channel_shuffle(torch.cat([left, right], dim=1), 2)


@MODELS.register_module()
class CIFARShuffleNetV2(CIFARBackbone):
    """ShuffleNetV2 for 32x32 inputs from the CIFAR-100 KD benchmark.

    The "ShuffleV2" student of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (``widen_factor=1.0``), after
    `ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture
    Design <https://arxiv.org/abs/1807.11164>`_: a 1x1 stem ``conv1`` (24
    channels) + ``bn1`` + ReLU, three stages ``layer1`` .. ``layer3`` (one
    stride-2 unit followed by 3, 7, 3 stride-1 units) and a 1x1 ``conv2`` +
    ``bn2`` + ReLU.

    ===== ==================== =================================== =======
    stage module               channels, widen_factor 0.5/1/1.5/2  32x32
    ===== ==================== =================================== =======
    0     ``layer1``           48 / 116 / 176 / 224                16x16
    1     ``layer2``           96 / 232 / 352 / 488                8x8
    2     ``layer3``           192 / 464 / 704 / 976               4x4
    3     ``conv2``, ``bn2``   1024 / 1024 / 1024 / 2048           4x4
    ===== ==================== =================================== =======

    About 1.36M parameters with a 100-class linear head at width 1.0.
    Stages 0-2 output the shuffled post-ReLU maps (the benchmark's ``f1`` ..
    ``f3``); stage 3 is the map the benchmark average-pools.

    Checkpoint mapping: benchmark keys load after prefixing ``backbone.``;
    ``linear.*`` maps to ``head.fc.*`` of a ``LinearClsHead``.

    Args:
        widen_factor (float): One of 0.5, 1.0, 1.5, 2.0. Defaults to 1.0.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (stage 3).
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

    # widen_factor: channels of the four stages
    width_settings = {
        0.5: (48, 96, 192, 1024),
        1.0: (116, 232, 464, 1024),
        1.5: (176, 352, 704, 1024),
        2.0: (224, 488, 976, 2048),
    }
    stage_units = (3, 7, 3)

    def __init__(self,
                 widen_factor: float = 1.0,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg)
        channels = select_arch(
            type(self).__name__, widen_factor, self.width_settings,
            'widen_factor')
        self.widen_factor = widen_factor
        stem_channels = 24
        self.conv1 = nn.Conv2d(3, stem_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        in_channels = stem_channels
        for index, num_units in enumerate(self.stage_units):
            units = [ShuffleDownUnitV2(in_channels, channels[index])]
            units += [ShuffleUnitV2(channels[index]) for _ in range(num_units)]
            self.add_module(f'layer{index + 1}', nn.Sequential(*units))
            in_channels = channels[index]
        self.conv2 = nn.Conv2d(in_channels, channels[3], 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels[3])

        self._setup_stages(
            stem_names=('conv1', 'bn1'),
            stage_names=[('layer1', ), ('layer2', ), ('layer3', ),
                         ('conv2', 'bn2')],
            stage_channels=channels,
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
            if index < 3:
                x = getattr(self, f'layer{index + 1}')(x)
            else:
                x = F.relu(self.bn2(self.conv2(x)))
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
