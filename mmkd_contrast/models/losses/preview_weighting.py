"""PCKD's preview weights: down-weight the samples hard for the student."""
from typing import Optional

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS
from .base_distill_loss import POSITIVE, HyperParam, hyper_param_problem


@MODELS.register_module()
class PreviewWeighting(nn.Module):
    """Per-sample preview weights of PCKD.

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    From the student's per-sample cross-entropy of the batch::

        gamma_i = CE_i / mean_j CE_j
        t_e     = base ** e                  (e: current epoch, from 1)
        v_i     = 1                if gamma_i <= t_e
                = exp(-gamma_i^2)  otherwise

    The threshold grows with the epoch, so hard samples are "previewed" with
    a small weight early and learnt fully later. ``base = 1.005`` is the
    value for a 240-epoch schedule (``t`` goes from 1.005 to 3.31). To keep
    that end point on another schedule give ``final_threshold`` (e.g. 3.31):
    then ``base = final_threshold ** (1 / max_epochs)`` and ``base`` is
    ignored. ``max_epochs`` may be given here or later with
    :meth:`set_max_epochs` (a distiller learns it at train time).

    This module has no parameters and returns detached weights; it lives
    beside the PCKD losses because it only serves to weight them.

    Args:
        base (float): Growth factor of the threshold per epoch, used when
            ``final_threshold`` is None. Defaults to 1.005.
        final_threshold (float, optional): Threshold reached at the last
            epoch. Defaults to None.
        max_epochs (int, optional): Length of the schedule; required (here or
            through :meth:`set_max_epochs`) before the first forward when
            ``final_threshold`` is set. Defaults to None.
    """

    #: Its settings and their valid values (it is not a loss, but declares
    #: them as the losses do, and the distiller checks them the same way).
    HYPER_PARAMS = dict(
        base=POSITIVE,
        final_threshold=HyperParam(
            low=0, low_open=True, allow_none=True, meaning='threshold'),
        max_epochs=HyperParam(
            low=1, integer=True, allow_none=True, meaning='count'))

    def __init__(self,
                 base: float = 1.005,
                 final_threshold: Optional[float] = None,
                 max_epochs: Optional[int] = None) -> None:
        super().__init__()
        for name, value in (('base', base),
                            ('final_threshold', final_threshold)):
            message = hyper_param_problem(
                type(self).__name__, name, value, self.HYPER_PARAMS[name])
            if message is not None:
                raise ValueError(message)
        self._base = base
        self.final_threshold = final_threshold
        self.max_epochs = None
        if max_epochs is not None:
            self.set_max_epochs(max_epochs)

    def set_max_epochs(self, max_epochs: int) -> None:
        """Set the schedule length used with ``final_threshold``.

        Args:
            max_epochs (int): Number of training epochs, at least 1.
        """
        if int(max_epochs) != max_epochs or max_epochs < 1:
            raise ValueError('PreviewWeighting: max_epochs must be a positive '
                             f'integer, got {max_epochs}')
        self.max_epochs = int(max_epochs)

    @property
    def base(self) -> float:
        """float: The per-epoch growth factor of the threshold."""
        if self.final_threshold is None:
            return self._base
        if self.max_epochs is None:
            raise RuntimeError(
                'PreviewWeighting: final_threshold='
                f'{self.final_threshold} needs max_epochs; pass it to the '
                'constructor or call set_max_epochs() before forward')
        return self.final_threshold**(1.0 / self.max_epochs)

    def threshold(self, epoch: int) -> float:
        """The threshold ``t_e`` of a (1-based) epoch.

        Args:
            epoch (int): Current epoch, starting at 1.

        Returns:
            float: ``base ** epoch``.
        """
        if epoch < 1:
            raise ValueError(
                f'PreviewWeighting: epoch is 1-based, got epoch={epoch}')
        return self.base**epoch

    def forward(self, ce: torch.Tensor, epoch: int) -> torch.Tensor:
        """Compute the preview weights.

        Args:
            ce (Tensor): Per-sample cross-entropy ``(B,)`` (non-negative);
                detached here.
            epoch (int): Current epoch, starting at 1.

        Returns:
            Tensor: Detached weights ``v`` of shape ``(B,)``, in ``(0, 1]``.
                A batch whose CE is 0 everywhere gets weight 1 everywhere.
        """
        return self.weights(ce, self.threshold(epoch))

    def weights(self, ce, threshold):
        """The preview weights for a given threshold.

        Args:
            ce (Tensor): Per-sample cross-entropy ``(B,)`` (non-negative);
                detached here.
            threshold (float | Tensor): ``t_e`` of :meth:`threshold`; a 0-d
                tensor keeps a compiled step free of a per-epoch constant.

        Returns:
            Tensor: Detached weights ``v`` of shape ``(B,)``, as
            :meth:`forward`'s.
        """
        if ce.dim() != 1 or ce.shape[0] == 0:
            raise ValueError('PreviewWeighting expects a non-empty per-sample '
                             f'CE of shape (B,), got {tuple(ce.shape)}')
        ce = ce.detach().float()
        # An all-zero CE gives gamma = 0 (weight 1) rather than 0 / 0.
        gamma = ce / ce.mean().clamp(min=torch.finfo(ce.dtype).tiny)
        return torch.where(gamma <= threshold, torch.ones_like(gamma),
                           torch.exp(-gamma.square()))
