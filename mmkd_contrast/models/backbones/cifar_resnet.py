"""CIFAR ResNets of the CIFAR-100 knowledge-distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone, select_arch


def _conv3x3(in_channels, out_channels, stride=1):
    """3x3 convolution without bias, padding 1."""
    return nn.Conv2d(
        in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


SHORTCUTS = ('projection', 'zero_pad')


class ZeroPadShortcut(nn.Module):
    """Parameter-free shortcut: subsample, then pad channels with zeros.

    The "option A" shortcut of He et al. 2016 for CIFAR: the input is
    subsampled by taking every ``stride``-th row and column (starting at the
    first), and the ``out_channels - in_channels`` new channels are zeros,
    half before and half after the input's channels (the extra one, for an
    odd difference, after).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, at least ``in_channels``.
        stride (int): Subsampling step. Defaults to 1.
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(
                f'ZeroPadShortcut: out_channels ({out_channels}) must be at '
                f'least in_channels ({in_channels}); a zero-padding '
                'shortcut cannot drop channels')
        self.stride = stride
        self.pad_front = (out_channels - in_channels) // 2
        self.pad_back = out_channels - in_channels - self.pad_front

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))

    def extra_repr(self):
        return (f'stride={self.stride}, pad_front={self.pad_front}, '
                f'pad_back={self.pad_back}')


class CIFARBasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity or a resizing shortcut.

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))``; ``downsample``
    exists only when the stride or the width changes: a 1x1 conv + BN
    (``shortcut='projection'``, "option B") or a :class:`ZeroPadShortcut`
    without parameters (``shortcut='zero_pad'``, "option A").

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first convolution. Defaults to 1.
        shortcut (str): ``'projection'`` or ``'zero_pad'``. Defaults to
            ``'projection'``.
    """

    def __init__(self, in_channels, out_channels, stride=1,
                 shortcut='projection'):
        super().__init__()
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride == 1 and in_channels == out_channels:
            pass
        elif shortcut == 'zero_pad':
            self.downsample = ZeroPadShortcut(in_channels, out_channels,
                                              stride)
        else:
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class CIFARBottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 bottleneck with expansion 4.

    ``relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))``;
    the stride sits on the 3x3 convolution and ``shortcut`` is empty (the
    identity) unless the stride or the width changes.

    Args:
        in_channels (int): Input channels.
        mid_channels (int): Channels of the 3x3 convolution; the block outputs
            ``4 * mid_channels``.
        stride (int): Stride of the 3x3 convolution. Defaults to 1.
    """

    expansion = 4

    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__()
        out_channels = mid_channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = _conv3x3(mid_channels, mid_channels, stride)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


@MODELS.register_module()
class CIFARResNet(CIFARBackbone):
    """ResNets for 32x32 inputs from the CIFAR-100 distillation benchmark.

    The teacher/student ResNets of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (and most later CIFAR-100 KD
    papers), after `Deep Residual Learning for Image Recognition
    <https://arxiv.org/abs/1512.03385>`_. A 3x3 stride-1 stem
    (``conv1``, ``bn1``, ReLU) is followed by ``layer1`` .. ``layerN``.

    ========== ====== ================= ========================== =========
    arch       blocks stem, stage width stages (index: channels)   params*
    ========== ====== ================= ========================== =========
    resnet8    basic  16; 16/32/64      0: 16, 1: 32, 2: 64        0.08M
    resnet14   basic  16; 16/32/64      n = 2 blocks per stage     0.18M
    resnet20   basic  16; 16/32/64      n = 3                      0.28M
    resnet32   basic  16; 16/32/64      n = 5                      0.47M
    resnet44   basic  16; 16/32/64      n = 7                      0.67M
    resnet56   basic  16; 16/32/64      n = 9                      0.86M
    resnet110  basic  16; 16/32/64      n = 18                     1.74M
    resnet8x4  basic  32; 64/128/256    0: 64, 1: 128, 2: 256      1.23M
    resnet32x4 basic  32; 64/128/256    n = 5                      7.43M
    ResNet50   bottl. 64; [3,4,6,3]     0: 256, 1: 512, 2: 1024,   23.7M
                                        3: 2048
    ========== ====== ================= ========================== =========

    \\* with a 100-class linear head. Basic-block archs have 3 stages of
    ``(depth - 2) / 6`` blocks; stage 0 keeps the resolution, every later
    stage halves it, so a 32x32 input gives 32/16/8 maps (ResNet50: 32/16/8/4).

    Stage ``i`` is ``layer{i+1}``; its output is the post-ReLU map that the
    benchmark calls ``f{i+1}``. The stem output (``f0``) is not a stage.

    Checkpoint mapping: the submodule names and nesting are those of the
    benchmark models, so their keys load after prefixing ``backbone.``, except
    the classifier (``fc.*``, ``linear.*`` for ResNet50), which maps to
    ``head.fc.*`` of a ``LinearClsHead``.

    Shortcuts: by default a block that changes the resolution or the width
    has a 1x1-projection shortcut (conv + BN), as in the benchmark models.
    ``shortcut='zero_pad'`` (basic-block archs only) gives the original
    CIFAR ResNets' parameter-free "option A" shortcut instead
    (:class:`ZeroPadShortcut`): the same names for every other layer, no
    ``downsample`` parameters, so the widely published CIFAR-10
    resnet20/32/44/56 weights load (``tools/model_converters/``).

    Args:
        arch (str): One of the archs above. Defaults to ``'resnet8x4'``.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (the last stage).
        frozen_stages (int): Freeze the stem and the first ``frozen_stages``
            stages; ``-1`` freezes nothing. Defaults to -1.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        shortcut (str): ``'projection'`` (1x1 conv + BN, "option B") or
            ``'zero_pad'`` (subsample + zero channels, "option A"; basic
            blocks only). Defaults to ``'projection'``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Kaiming-normal (fan_out) convolutions and unit
            BatchNorm, as in the benchmark.

    Attributes:
        out_channels (tuple[int]): Output channels of every stage, indexed
            like ``out_indices``.

    Example:
        >>> import torch
        >>> model = CIFARResNet(arch='resnet8x4', out_indices=(0, 1, 2))
        >>> [tuple(f.shape) for f in model(torch.rand(2, 3, 32, 32))]
        [(2, 64, 32, 32), (2, 128, 16, 16), (2, 256, 8, 8)]
    """

    # arch: (block, stem channels, stage widths, blocks per stage)
    arch_settings = {
        'resnet8': ('basic', 16, (16, 32, 64), 1),
        'resnet14': ('basic', 16, (16, 32, 64), 2),
        'resnet20': ('basic', 16, (16, 32, 64), 3),
        'resnet32': ('basic', 16, (16, 32, 64), 5),
        'resnet44': ('basic', 16, (16, 32, 64), 7),
        'resnet56': ('basic', 16, (16, 32, 64), 9),
        'resnet110': ('basic', 16, (16, 32, 64), 18),
        'resnet8x4': ('basic', 32, (64, 128, 256), 1),
        'resnet32x4': ('basic', 32, (64, 128, 256), 5),
        'ResNet50': ('bottleneck', 64, (64, 128, 256, 512), (3, 4, 6, 3)),
    }

    def __init__(self,
                 arch: str = 'resnet8x4',
                 out_indices: Union[int, Sequence[int]] = -1,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 shortcut: str = 'projection',
                 init_cfg: Optional[Union[dict, List[dict]]] = [
                     dict(
                         type='Kaiming',
                         layer='Conv2d',
                         mode='fan_out',
                         nonlinearity='relu'),
                     dict(type='Constant', val=1, layer=['_BatchNorm'])
                 ]) -> None:
        super().__init__(init_cfg)
        block_type, stem_channels, widths, depths = select_arch(
            type(self).__name__, arch, self.arch_settings)
        if isinstance(depths, int):
            depths = (depths, ) * len(widths)
        if shortcut not in SHORTCUTS:
            raise ValueError(
                f'{type(self).__name__}: unknown shortcut {shortcut!r}; '
                f'valid values are {list(SHORTCUTS)}')
        if shortcut == 'zero_pad' and block_type != 'basic':
            raise ValueError(
                f'{type(self).__name__}: shortcut=\'zero_pad\' needs a '
                f'basic-block arch; {arch!r} has bottleneck blocks')
        self.arch = arch
        self.shortcut = shortcut

        self.conv1 = _conv3x3(3, stem_channels)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)

        in_channels = stem_channels
        stage_channels = []
        self.layer_names = []
        for index, (width, depth) in enumerate(zip(widths, depths)):
            first_stride = 1 if index == 0 else 2
            blocks = []
            for block_index in range(depth):
                stride = first_stride if block_index == 0 else 1
                if block_type == 'basic':
                    block = CIFARBasicBlock(in_channels, width, stride,
                                            shortcut)
                    in_channels = width
                else:
                    block = CIFARBottleneck(in_channels, width, stride)
                    in_channels = width * CIFARBottleneck.expansion
                blocks.append(block)
            name = f'layer{index + 1}'
            self.add_module(name, nn.Sequential(*blocks))
            self.layer_names.append(name)
            stage_channels.append(in_channels)

        self._setup_stages(
            stem_names=('conv1', 'bn1'),
            stage_names=[(name, ) for name in self.layer_names],
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
        x = self.relu(self.bn1(self.conv1(x)))
        outs = []
        for index, name in enumerate(self.layer_names):
            x = getattr(self, name)(x)
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
