"""Stage bookkeeping shared by the CIFAR knowledge-distillation backbones.

Every backbone of the zoo is a stem followed by numbered stages. This base
class turns a description of that layout (which submodules form the stem,
which form each stage, how many channels each stage outputs) into the
mmpretrain backbone conventions: ``out_indices``, ``frozen_stages`` and
``norm_eval``.
"""
from collections.abc import Sequence

from mmpretrain.models.backbones.base_backbone import BaseBackbone
from torch.nn.modules.batchnorm import _BatchNorm


def select_arch(backbone_name, arch, arch_settings, option='arch'):
    """Look an architecture up in a table of settings.

    Args:
        backbone_name (str): Class name used in the error message.
        arch (Hashable): Requested architecture (a name, or e.g. a width).
        arch_settings (dict): Maps every valid architecture to its settings.
        option (str): Name of the constructor argument, for the error
            message. Defaults to ``'arch'``.

    Returns:
        The settings of ``arch``.

    Raises:
        ValueError: If ``arch`` is not a key of ``arch_settings``; the message
            lists the valid values.
    """
    try:
        found = arch in arch_settings
    except TypeError:  # unhashable
        found = False
    if not found:
        raise ValueError(
            f'{backbone_name}: unknown {option} {arch!r}; valid {option} '
            f'values are {list(arch_settings)}')
    return arch_settings[arch]


class CIFARBackbone(BaseBackbone):
    """Base class of the CIFAR backbones: stage selection and freezing.

    A subclass builds its layers, then calls :meth:`_setup_stages` with the
    names of the submodules that make up the stem and each stage. Stages are
    numbered from 0; ``frozen_stages=k`` freezes the stem and stages
    ``0 .. k-1`` (``0`` freezes the stem only, ``-1`` nothing), as in
    mmpretrain's ResNet.

    Args:
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)

    def _setup_stages(self, stem_names, stage_names, stage_channels,
                      out_indices, frozen_stages, norm_eval):
        """Record the stage layout, check the options and freeze.

        Args:
            stem_names (Sequence[str]): Submodule paths of the stem (may be
                empty).
            stage_names (Sequence[Sequence[str]]): For each stage, the paths of
                the submodules whose parameters belong to it.
            stage_channels (Sequence[int]): Output channels of each stage.
            out_indices (int | Sequence[int]): Stages whose outputs
                ``forward`` returns; negative values count from the end.
            frozen_stages (int): Number of frozen stages, ``-1`` for none.
            norm_eval (bool): Keep every BatchNorm in eval mode during
                training.
        """
        name = type(self).__name__
        num_stages = len(stage_names)
        if len(stage_channels) != num_stages:
            raise ValueError(f'{name}: {num_stages} stages but '
                             f'{len(stage_channels)} stage channels')
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence) or len(out_indices) == 0:
            raise ValueError(
                f'{name}: out_indices must be an int or a non-empty '
                f'sequence of ints, got {out_indices!r}')
        resolved = []
        for index in out_indices:
            if not isinstance(index, int) or not (-num_stages <= index <
                                                  num_stages):
                raise ValueError(
                    f'{name}: out_indices entry {index!r} is out of range '
                    f'for {num_stages} stages (valid: 0..{num_stages - 1} '
                    'or negative from the end)')
            resolved.append(index % num_stages)
        if len(set(resolved)) != len(resolved):
            raise ValueError(
                f'{name}: out_indices {tuple(out_indices)} name a stage twice')
        if not isinstance(frozen_stages, int) or not (-1 <= frozen_stages <=
                                                      num_stages):
            raise ValueError(
                f'{name}: frozen_stages must be an int in -1..{num_stages}, '
                f'got {frozen_stages!r}')

        self.stem_names = tuple(stem_names)
        self.stage_names = tuple(tuple(names) for names in stage_names)
        self.out_channels = tuple(stage_channels)
        self.num_stages = num_stages
        self.out_indices = tuple(sorted(resolved))
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self._freeze_stages()

    def _frozen_modules(self):
        """Yield the submodules covered by ``frozen_stages``."""
        if self.frozen_stages < 0:
            return
        for path in self.stem_names:
            yield self.get_submodule(path)
        for stage in range(self.frozen_stages):
            for path in self.stage_names[stage]:
                yield self.get_submodule(path)

    def _freeze_stages(self):
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode=True):
        """Set train/eval mode, keeping frozen stages (and, with
        ``norm_eval``, every BatchNorm) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
