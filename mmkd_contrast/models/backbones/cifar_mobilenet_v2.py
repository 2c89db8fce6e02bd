"""CIFAR MobileNetV2 of the CIFAR-100 knowledge-distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone


def _conv_bn_relu(in_channels, out_channels, kernel_size, stride=1):
    """``Sequential(conv (no bias), BN, ReLU)`` with 'same' padding."""
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class CIFARInvertedResidual(nn.Module):
    """Inverted residual: 1x1 expand, 3x3 depthwise, linear 1x1 project.

    All eight layers sit in ``self.conv`` (``Sequential``: conv, BN, ReLU,
    depthwise conv, BN, ReLU, conv, BN). The expansion convolution is kept
    even when ``expand_ratio`` is 1. The input is added back when the stride
    is 1 and the width does not change.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the depthwise convolution (1 or 2).
        expand_ratio (int): Hidden width is ``in_channels * expand_ratio``.
    """

    def __init__(self, in_channels, out_channels, stride, expand_ratio):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(
                f'CIFARInvertedResidual: stride must be 1 or 2, got {stride}')
        hidden = in_channels * expand_ratio
        self.use_residual = stride == 1 and in_channels == out_channels
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                hidden,
                hidden,
                3,
                stride=stride,
                padding=1,
                groups=hidden,
                bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )

    def forward(self, x):
        out = self.conv(x)
        return x + out if self.use_residual else out


@MODELS.register_module()
class CIFARMobileNetV2(CIFARBackbone):
    """MobileNetV2 for 32x32 inputs from the CIFAR-100 distillation benchmark.

    The MobileNetV2 student of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (its "MobileNetV2" is this network
    at half width), after `MobileNetV2: Inverted Residuals and Linear
    Bottlenecks <https://arxiv.org/abs/1801.04381>`_. A stride-2 3x3 stem
    ``conv1``, seven groups of inverted residuals ``blocks[0..6]`` and a 1x1
    ``conv2`` to 1280 channels.

    Stages (0.5 width, expansion 6, 32x32 input; about 0.81M parameters with
    a 100-class linear head):

    ===== ============ ===================== ======== ====== ==========
    stage module       base width (x factor) blocks   stride out
    ===== ============ ===================== ======== ====== ==========
    0     ``blocks.0`` 16 (expansion 1)      1        1      8@16x16
    1     ``blocks.1`` 24                    2        1      12@16x16
    2     ``blocks.2`` 32                    3        2      16@8x8
    3     ``blocks.3`` 64                    4        2      32@4x4
    4     ``blocks.4`` 96                    3        1      48@4x4
    5     ``blocks.5`` 160                   3        2      80@2x2
    6     ``blocks.6`` 320                   1        1      160@2x2
    7     ``conv2``    1280                  1x1 conv 1      1280@2x2
    ===== ============ ===================== ======== ====== ==========

    Widths are ``int(base * widen_factor)`` (stem: ``int(32 *
    widen_factor)``); the last width is 1280 unless ``widen_factor > 1``,
    where it is ``int(1280 * widen_factor)``. The benchmark's features
    ``f1`` .. ``f4`` are stages 1, 2, 4 and 6.

    Checkpoint mapping: benchmark keys load after prefixing ``backbone.``;
    ``classifier.0.*`` maps to ``head.fc.*`` of a ``LinearClsHead``.

    Args:
        widen_factor (float): Width multiplier. Defaults to 0.5.
        expand_ratio (int): Expansion of every group but the first (which
            always uses 1). Defaults to 6.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (stage 7, ``conv2``).
        frozen_stages (int): Freeze the stem and the first ``frozen_stages``
            stages; ``-1`` freezes nothing. Defaults to -1.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Kaiming-normal (fan_out) convolutions and unit
            BatchNorm, as in the benchmark.

    Attributes:
        out_channels (tuple[int]): Output channels of every stage, indexed
            like ``out_indices``.
    """

    # (base width, number of blocks, stride of the first block)
    group_settings = ((16, 1, 1), (24, 2, 1), (32, 3, 2), (64, 4, 2),
                      (96, 3, 1), (160, 3, 2), (320, 1, 1))

    def __init__(self,
                 widen_factor: float = 0.5,
                 expand_ratio: int = 6,
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(
                         type='Kaiming',
                         layer='Conv2d',
                         mode='fan_out',
                         nonlinearity='relu'),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]) -> None:
        super().__init__(init_cfg)
        if not widen_factor > 0:
            raise ValueError('CIFARMobileNetV2: widen_factor must be '
                             f'positive, got {widen_factor}')
        if not (isinstance(expand_ratio, int) and expand_ratio >= 1):
            raise ValueError('CIFARMobileNetV2: expand_ratio must be an int '
                             f'>= 1, got {expand_ratio!r}')
        self.widen_factor = widen_factor
        self.expand_ratio = expand_ratio

        in_channels = int(32 * widen_factor)
        self.conv1 = _conv_bn_relu(3, in_channels, 3, stride=2)
        groups = []
        stage_channels = []
        for index, (base, num_blocks, stride) in enumerate(
                self.group_settings):
            out_channels = int(base * widen_factor)
            ratio = 1 if index == 0 else expand_ratio
            blocks = []
            for block_index in range(num_blocks):
                blocks.append(
                    CIFARInvertedResidual(in_channels, out_channels,
                                          stride if block_index == 0 else 1,
                                          ratio))
                in_channels = out_channels
            groups.append(nn.Sequential(*blocks))
            stage_channels.append(out_channels)
        self.blocks = nn.ModuleList(groups)
        last_channels = 1280
        if widen_factor > 1.0:
            last_channels = int(1280 * widen_factor)
        self.conv2 = _conv_bn_relu(in_channels, last_channels, 1)
        stage_channels.append(last_channels)

        self._setup_stages(
            stem_names=('conv1', ),
            stage_names=[(f'blocks.{i}', ) for i in range(len(groups))] +
            [('conv2', )],
            stage_channels=stage_channels,
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
        x = self.conv1(x)
        outs = []
        for index, stage in enumerate(list(self.blocks) + [self.conv2]):
            x = stage(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
