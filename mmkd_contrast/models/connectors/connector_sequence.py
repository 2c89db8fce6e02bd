"""Several connectors applied one after the other, as one connector."""
from typing import Sequence, Union

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS
from ...utils import build_in_scope, shape_of


@MODELS.register_module()
class ConnectorSequence(nn.Module):
    """Chain connectors: the output of each one is the input of the next.

    A distiller applies one connector per loss argument; a method whose
    feature path has several steps (LFCC, `Low-Frequency Components for
    Heterogeneous Knowledge Distillation
    <https://arxiv.org/abs/2405.18524>`_: tokens to a map, a low-pass
    filter, a compact projector) describes the path as one
    ``ConnectorSequence``.

    Unlike ``nn.Sequential``, an error raised by a step (``ValueError`` or
    ``RuntimeError``) is re-raised naming the step's index, type and input
    shape, and :meth:`init_weights` reaches every step that defines one, so
    a step with a deliberate initialisation (``LearnableLowPassFilter``)
    keeps it when mmengine initialises the model.

    Args:
        connectors (list[dict | nn.Module]): The steps, in order: configs
            (unscoped types resolve in ``mmkd_contrast`` first, then in
            mmpretrain) or built modules.

    Example:
        >>> chain = ConnectorSequence(connectors=[
        ...     dict(type='TokenToMap', num_extra_tokens=1),
        ...     dict(type='LowPassFilter', kernel_sizes=(2, 4)),
        ...     dict(type='CompactProjector', in_channels=64,
        ...          out_channels=32),
        ... ])
        >>> chain(torch.randn(2, 1 + 7 * 7, 64)).shape
        torch.Size([2, 128])
    """

    def __init__(self,
                 connectors: Sequence[Union[dict, nn.Module]]) -> None:
        super().__init__()
        if isinstance(connectors, (dict, nn.Module)) or not isinstance(
                connectors, (list, tuple)) or len(connectors) == 0:
            raise ValueError('ConnectorSequence: connectors must be a '
                             'non-empty list of connector configs or '
                             f'modules, got {connectors!r}')
        steps = []
        for index, cfg in enumerate(connectors):
            if isinstance(cfg, nn.Module):
                steps.append(cfg)
            elif isinstance(cfg, dict):
                steps.append(build_in_scope(cfg))
            else:
                raise TypeError(
                    f'ConnectorSequence: step {index} must be a config dict '
                    f'or an nn.Module, got {type(cfg).__name__}')
        self.connectors = nn.ModuleList(steps)

    def init_weights(self):
        """Initialise every step that defines ``init_weights`` and has not
        been initialised yet."""
        for step in self.connectors:
            if hasattr(step, 'init_weights') and not getattr(
                    step, 'is_init', False):
                step.init_weights()

    def forward(self,
                x: Union[torch.Tensor, tuple, list]) -> torch.Tensor:
        """Apply the steps in order.

        Args:
            x (Tensor | tuple | list): Input of the first step.

        Returns:
            Tensor: Output of the last step.
        """
        for index, step in enumerate(self.connectors):
            try:
                x_next = step(x)
            except (ValueError, RuntimeError) as err:
                raise type(err)(
                    f'ConnectorSequence step {index} '
                    f'({type(step).__name__}) failed on input of shape '
                    f'{shape_of(x)}: {err}') from err
            x = x_next
        return x

    def __len__(self):
        return len(self.connectors)

    def __getitem__(self, index):
        return self.connectors[index]
