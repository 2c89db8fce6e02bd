"""Vanilla knowledge distillation on logits."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, BaseDistillLoss,
                                HyperParam, LossInput)


@MODELS.register_module()
class KDLoss(BaseDistillLoss):
    """Vanilla knowledge distillation loss on logits.

    `Distilling the Knowledge in a Neural Network
    <https://arxiv.org/abs/1503.02531>`_.

    ``loss_weight * tau^2 * (1/B) * sum_i KL(p_t,i || p_s,i)`` with
    ``p_t,i = softmax(t_i / tau)`` and ``p_s,i = softmax(s_i / tau)``.

    Per-pixel logits ``(B, C, H, W)`` (any ``(B, C, ...)``) take the KL over
    the classes at each position and average it over the valid positions:
    all of them, or, when ``labels`` are given, those whose label is not
    ``ignore_index`` (a masked mean computed with arithmetic, no host sync).

    Args:
        tau (float): Temperature. Defaults to 4.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        ignore_index (int): Label of positions left out when ``labels`` are
            given. Defaults to 255 (mmseg's).
    """

    INPUTS = dict(
        s_logits=LossInput('(B, C) or (B, C, H, W)', 'student'),
        t_logits=LossInput('same as s_logits', 'teacher'),
        weight=LossInput('(B,)', 'distiller', 'per-sample weight'),
        labels=LossInput('(B,) or (B, H, W)', 'data',
                         'positions labelled ignore_index are left out'))
    HYPER_PARAMS = dict(
        tau=POSITIVE,
        loss_weight=NON_NEGATIVE,
        ignore_index=HyperParam(integer=True, meaning='label'))

    def __init__(self,
                 tau: float = 4.0,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255) -> None:
        super().__init__(
            tau=tau, loss_weight=loss_weight, ignore_index=ignore_index)

    def forward(self,
                s_logits: torch.Tensor,
                t_logits: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_logits (Tensor): Student logits ``(B, C)`` or per-position
                logits ``(B, C, H, W)``.
            t_logits (Tensor): Teacher logits of the same shape, detached
                here.
            weight (Tensor, optional): Per-sample weight ``(B,)``. The
                weighted sum is still divided by the number of (valid)
                positions.
            labels (Tensor, optional): Ground truth ``(B,)`` for ``(B, C)``
                logits, or a label map ``(B, H', W')`` / ``(B, 1, H', W')``
                for per-position logits (resized to ``(H, W)`` by nearest
                neighbour when it differs). Positions labelled
                ``ignore_index`` are left out of the mean.

        Returns:
            Tensor: Scalar loss.
        """
        if s_logits.shape != t_logits.shape or s_logits.dim() < 2:
            raise ValueError(
                'KDLoss expects student and teacher logits of the same '
                'shape, (B, C) or per position (B, C, H, W), got s_logits '
                f'{tuple(s_logits.shape)} and t_logits '
                f'{tuple(t_logits.shape)}')
        log_p_s = F.log_softmax(s_logits.float() / self.tau, dim=1)
        log_p_t = F.log_softmax(t_logits.detach().float() / self.tau, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
        if weight is not None:
            if weight.shape != kl.shape[:1]:
                raise ValueError(
                    f'KDLoss: weight must have shape {tuple(kl.shape[:1])}, '
                    f'got {tuple(weight.shape)}')
            kl = kl * weight.detach().float().view(
                (-1, ) + (1, ) * (kl.dim() - 1))
        if labels is None:
            return self.loss_weight * self.tau**2 * kl.sum() / kl.numel()
        valid = self._valid_positions(labels, kl.shape)
        # Masked mean by arithmetic; an all-ignored batch gives 0.
        return self.loss_weight * self.tau**2 * (kl * valid).sum() / \
            valid.sum().clamp(min=1.0)

    def _valid_positions(self, labels, shape):
        """A float mask of ``shape``: 1 where the label is not ignored."""
        labels = labels.detach()
        if labels.dim() == len(shape) + 1 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.dim() != len(shape) or labels.shape[0] != shape[0]:
            raise ValueError(
                f'KDLoss: labels must have shape (B, ...) matching the '
                f'logits\' positions {tuple(shape)}, got '
                f'{tuple(labels.shape)}')
        if labels.shape != shape:
            labels = F.interpolate(
                labels[:, None].float(), size=tuple(shape[1:]),
                mode='nearest')[:, 0]
        return (labels != self.ignore_index).float()
