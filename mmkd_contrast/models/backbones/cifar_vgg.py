"""CIFAR VGGs (with BatchNorm) of the CIFAR-100 distillation benchmark."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .cifar_backbone_base import CIFARBackbone, select_arch


def _make_vgg_stage(in_channels, widths):
    """``[conv3x3, BN, ReLU] * n`` without the trailing ReLU.

    The last ReLU is applied by the backbone's forward instead, so that the
    stage's pre-activation stays reachable (its last module is the BN).
    """
    layers = []
    for width in widths:
        layers += [
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True)
        ]
        in_channels = width
    return nn.Sequential(*layers[:-1])


@MODELS.register_module()
class CIFARVGG(CIFARBackbone):
    """VGG-BN networks from the CIFAR-100 distillation benchmark.

    The VGG teachers/students of `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_, after `Very Deep Convolutional
    Networks for Large-Scale Image Recognition
    <https://arxiv.org/abs/1409.1556>`_, without the fully connected layers.
    Five stages ``block0`` .. ``block4`` of 3x3 conv (with bias) + BN + ReLU;
    a 2x2 max-pool (``pool0`` .. ``pool2``) sits between stages 0-1, 1-2 and
    2-3. Between stages 3 and 4 the benchmark pools (``pool3``) only when
    the input is 64 pixels high; this backbone does the same, so a 32x32
    input gives 32/16/8/4/4 maps.

    ===== ================================================ =========
    arch  convs per stage (widths 64, 128, 256, 512, 512)   params*
    ===== ================================================ =========
    vgg8  1, 1, 1, 1, 1                                    3.96M
    vgg11 1, 1, 2, 2, 2                                    9.28M
    vgg13 2, 2, 2, 2, 2                                    9.46M
    vgg16 2, 2, 3, 3, 3                                    14.8M
    vgg19 2, 2, 4, 4, 4                                    20.1M
    ===== ================================================ =========

    \\* with a 100-class linear head.

    Stage ``i`` is ``block{i}``; its output is the post-ReLU map (the
    benchmark's ``f{i}``). Output channels: 64, 128, 256, 512, 512.

    Checkpoint mapping: benchmark ``*_bn`` keys load after prefixing
    ``backbone.``; ``classifier.*`` maps to ``head.fc.*`` of a
    ``LinearClsHead``.

    Args:
        arch (str): One of the archs above. Defaults to ``'vgg13'``.
        out_indices (int | Sequence[int]): Stages to return. Defaults to
            ``-1`` (the last stage).
        frozen_stages (int): Freeze the first ``frozen_stages`` stages (there
            is no separate stem); ``-1`` or ``0`` freezes nothing. Defaults to
            -1.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Kaiming-normal (fan_out) convolutions with zero bias
            and unit BatchNorm, as in the benchmark.

    Attributes:
        out_channels (tuple[int]): Output channels of every stage, indexed
            like ``out_indices``.
    """

    # arch: convolutions per stage
    arch_settings = {
        'vgg8': (1, 1, 1, 1, 1),
        'vgg11': (1, 1, 2, 2, 2),
        'vgg13': (2, 2, 2, 2, 2),
        'vgg16': (2, 2, 3, 3, 3),
        'vgg19': (2, 2, 4, 4, 4),
    }
    stage_widths = (64, 128, 256, 512, 512)

    def __init__(self,
                 arch: str = 'vgg13',
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
        convs_per_stage = select_arch(
            type(self).__name__, arch, self.arch_settings)
        self.arch = arch
        in_channels = 3
        for index, (num_convs, width) in enumerate(
                zip(convs_per_stage, self.stage_widths)):
            self.add_module(f'block{index}',
                            _make_vgg_stage(in_channels, [width] * num_convs))
            in_channels = width
        for index in range(4):
            self.add_module(f'pool{index}', nn.MaxPool2d(2, stride=2))

        self._setup_stages(
            stem_names=(),
            stage_names=[(f'block{i}', ) for i in range(5)],
            stage_channels=self.stage_widths,
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
        pool_before_last = x.shape[2] == 64
        outs = []
        for index in range(self.num_stages):
            if 1 <= index <= 3 or (index == 4 and pool_before_last):
                x = getattr(self, f'pool{index - 1}')(x)
            x = F.relu(getattr(self, f'block{index}')(x))
            if index in self.out_indices:
                outs.append(x)
        return tuple(outs)
