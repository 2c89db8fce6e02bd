"""CIFAR wide ResNets of the CIFAR-100 knowledge-distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone, select_arch


class WideBasicBlock(nn.Module):
    """Pre-activation wide block: ``BN-ReLU-conv3x3-BN-ReLU-conv3x3``.

    When the width or stride changes, the 1x1 ``shortcut`` convolution is
    applied to the pre-activated input ``relu(bn1(x))``; otherwise the
    shortcut is ``x`` itself.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first 3x3 convolution. Defaults to 1.
        drop_rate (float): Dropout probability between the convolutions.
            Defaults to 0.
    """

    def __init__(self, in_channels, out_channels, stride=1, drop_rate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1,
            bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False)
        self.drop_rate = drop_rate
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(
                in_channels, out_channels, 1, stride=stride, bias=False)

    def forward(self, x):
        act = self.relu1(self.bn1(x))
        identity = x if self.shortcut is None else self.shortcut(act)
        out = self.relu2(self.bn2(self.conv1(act)))
        if self.drop_rate > 0:
            out = F.dropout(out, p=self.drop_rate, training=self.training)
        return self.conv2(out) + identity


class WideStage(nn.Module):
    """A stage of wide blocks, held in ``self.layer`` (a ``Sequential``).

    Args:
        num_blocks (int): Number of blocks.
        in_channels (int): Input channels of the first block.
        out_channels (int): Output channels of every block.
        stride (int): Stride of the first block.
        drop_rate (float): Dropout probability inside the blocks.
    """

    def __init__(self, num_blocks, in_channels, out_channels, stride,
                 drop_rate):
        super().__init__()
        self.layer = nn.Sequential(*[
            WideBasicBlock(in_channels if i == 0 else out_channels,
                           out_channels, stride if i == 0 else 1, drop_rate)
            for i in range(num_blocks)
        ])

    def forward(self, x):
        return self.layer(x)


@MODELS.register_module()
class CIFARWideResNet(CIFARBackbone):
    """Wide ResNets (WRN-d-k) from the CIFAR-100 distillation benchmark.

    The WRN teachers/students of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_, after `Wide Residual Networks
    <https://arxiv.org/abs/1605.07146>`_: a 3x3 ``conv1`` (16 channels, no
    BN), three stages ``block1`` .. ``block3`` of ``(d - 4) / 6``
    pre-activation blocks with widths ``16k, 32k, 64k`` (strides 1, 2, 2),
    and a final ``bn1`` + ReLU.

    ======== ===== ===== ================================= ===========
    arch     depth width stages (index: channels, 32x32 in) params*
    ======== ===== ===== ================================= ===========
    wrn_16_1 16    1     0: 16@32, 1: 32@16, 2: 64@8       0.18M
    wrn_16_2 16    2     0: 32@32, 1: 64@16, 2: 128@8      0.70M
    wrn_40_1 40    1     0: 16@32, 1: 32@16, 2: 64@8       0.57M
    wrn_40_2 40    2     0: 32@32, 1: 64@16, 2: 128@8      2.25M
    ======== ===== ===== ================================= ===========

    \\* with a 100-class linear head.

    Stage ``i`` is ``block{i+1}``. Stages 0 and 1 return the raw block output
    (pre-activation, as the benchmark's ``f1``, ``f2``); the last stage
    includes the final ``bn1`` + ReLU, so its output is the map the benchmark
    average-pools into its feature.

    Checkpoint mapping: benchmark keys load after prefixing ``backbone.``,
    with ``convShortcut`` renamed ``shortcut``; ``fc.*`` maps to
    ``head.fc.*`` of a ``LinearClsHead``.

    Args:
        arch (str): One of the archs above. Defaults to ``'wrn_40_2'``.
        drop_rate (float): Dropout inside the blocks. Defaults to 0 (the
            benchmark's setting).
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (the last stage).
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

    # arch: (depth, widen factor)
    arch_settings = {
        'wrn_16_1': (16, 1),
        'wrn_16_2': (16, 2),
        'wrn_40_1': (40, 1),
        'wrn_40_2': (40, 2),
    }

    def __init__(self,
                 arch: str = 'wrn_40_2',
                 drop_rate: float = 0.0,
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
        depth, widen_factor = select_arch(
            type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        num_blocks = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]

        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        in_channels = 16
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            self.add_module(
                f'block{index + 1}',
                WideStage(num_blocks, in_channels, width, stride, drop_rate))
            in_channels = width
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)

        self._setup_stages(
            stem_names=('conv1', ),
            stage_names=[('block1', ), ('block2', ), ('block3', 'bn1')],
            stage_channels=widths,
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
        for index in range(self.num_stages):
            x = getattr(self, f'block{index + 1}')(x)
            if index == self.num_stages - 1:
                x = self.relu(self.bn1(x))
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
