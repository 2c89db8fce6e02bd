"""DKD: knowledge distillation decoupled into target-class and
non-target-class terms."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import should_check_values
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, BaseDistillLoss,
                                HyperParam, LossInput)


@MODELS.register_module()
class DKDLoss(BaseDistillLoss):
    """Decoupled knowledge distillation loss on logits.

    `Decoupled Knowledge Distillation
    <https://arxiv.org/abs/2203.08679>`_ (Zhao et al., CVPR 2022).

    With ``p = softmax(z / T)`` for each network and ``y`` the label of a
    sample, KD splits into a binary target / non-target part and a
    distribution over the non-target classes:

    - ``b = (p_y, 1 - p_y)``, and ``TCKD = KL(b_t || b_s)``;
    - ``q_k = p_k / (1 - p_y)`` for ``k != y``, and
      ``NCKD = KL(q_t || q_s)``;

    so that ``KD = TCKD + (1 - p_t,y) * NCKD``. DKD weighs the two parts
    freely::

        L = loss_weight * T^2 * (1/B) * sum_i (alpha * TCKD_i
                                             + beta * NCKD_i)

    The label range is checked on the first call (and on every call with
    ``MMKD_CONTRAST_DEBUG_CHECKS=1``). The teacher is detached; everything
    is computed in fp32 from log-probabilities (``log(1 - p_y)`` as a
    log-sum-exp over the other classes), so a confident teacher does not
    produce ``log(0)``.

    Args:
        alpha (float): Weight of TCKD. Defaults to 1.0.
        beta (float): Weight of NCKD. Defaults to 8.0 (the CIFAR-100 value
            of the paper; 6.0 for WRN-40-2 -> WRN-16-2).
        temperature (float): ``T``. Defaults to 4.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        warmup_epochs (int): Ramp the loss up linearly over this many
            epochs: it is multiplied by ``min(epoch / warmup_epochs, 1)``,
            the epoch (1-based) coming from :meth:`set_epoch` (epoch 1
            until it is called). The paper's CIFAR recipe uses 20. Defaults
            to 0 (no warm-up).

    Example:
        >>> loss = DKDLoss(alpha=1.0, beta=8.0, temperature=4.0)
        >>> s, t = torch.randn(8, 10), torch.randn(8, 10)
        >>> loss(s, t, torch.randint(0, 10, (8,))).shape
        torch.Size([])
    """

    INPUTS = dict(
        s_logits=LossInput('(B, C)', 'student'),
        t_logits=LossInput('(B, C)', 'teacher'),
        labels=LossInput('(B,)', 'data', 'integer labels in [0, C)'))
    HYPER_PARAMS = dict(
        alpha=NON_NEGATIVE,
        beta=NON_NEGATIVE,
        temperature=POSITIVE,
        loss_weight=NON_NEGATIVE,
        warmup_epochs=HyperParam(low=0, integer=True, meaning='count'))

    def __init__(self,
                 alpha: float = 1.0,
                 beta: float = 8.0,
                 temperature: float = 4.0,
                 loss_weight: float = 1.0,
                 warmup_epochs: int = 0) -> None:
        super().__init__(
            alpha=alpha,
            beta=beta,
            temperature=temperature,
            loss_weight=loss_weight,
            warmup_epochs=warmup_epochs)
        self.set_epoch(1)

    def set_epoch(self, epoch: int, max_epochs: Optional[int] = None) -> None:
        """Set the warm-up factor ``min(epoch / warmup_epochs, 1)``
        (a Python float: ``forward`` reads nothing on the host)."""
        self.warmup_factor = 1.0 if self.warmup_epochs == 0 else min(
            epoch / self.warmup_epochs, 1.0)

    def forward(self, s_logits: torch.Tensor, t_logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_logits (Tensor): Student logits ``(B, C)``, ``C >= 2``.
            t_logits (Tensor): Teacher logits ``(B, C)``; detached here.
            labels (Tensor): Integer labels ``(B,)`` in ``[0, C)``.

        Returns:
            Tensor: Scalar loss.
        """
        if s_logits.dim() != 2 or s_logits.shape != t_logits.shape or \
                s_logits.shape[1] < 2:
            raise ValueError(
                'DKDLoss expects student and teacher logits of the same '
                'shape (B, C) with C >= 2, got s_logits '
                f'{tuple(s_logits.shape)} and t_logits '
                f'{tuple(t_logits.shape)}')
        if labels.shape != s_logits.shape[:1] or \
                labels.is_floating_point():
            raise ValueError(
                f'DKDLoss expects integer labels of shape '
                f'({s_logits.shape[0]},) matching s_logits '
                f'{tuple(s_logits.shape)}, got {labels.dtype} '
                f'{tuple(labels.shape)}')
        num_classes = s_logits.shape[1]
        labels = labels.to(s_logits.device)
        if should_check_values(self):
            # Reading values syncs with a GPU: first call, or debug checks.
            low, high = int(labels.min()), int(labels.max())
            if low < 0 or high >= num_classes:
                raise ValueError(
                    f'DKDLoss: label {low if low < 0 else high} is outside '
                    f'[0, {num_classes}) (C = s_logits.shape[1])')
        # A comparison, not F.one_hot: one_hot reads the labels' range.
        is_target = labels[:, None] == torch.arange(
            num_classes, device=labels.device)
        tckd_s, nckd_s, log_q_s = self._decouple(s_logits.float(), is_target)
        tckd_t, nckd_t, log_q_t = self._decouple(
            t_logits.detach().float(), is_target)
        # TCKD: KL between the binary (target, rest) distributions.
        log_b_t = torch.stack([tckd_t, nckd_t], dim=1)
        log_b_s = torch.stack([tckd_s, nckd_s], dim=1)
        tckd = (log_b_t.exp() * (log_b_t - log_b_s)).sum(dim=1)
        # NCKD: KL between the distributions over the non-target classes
        # (the target entry of log q is 0 on both sides: it adds nothing).
        q_t = log_q_t.exp() * (~is_target)
        nckd = (q_t * (log_q_t - log_q_s)).sum(dim=1)
        per_sample = self.alpha * tckd + self.beta * nckd
        return (self.loss_weight * self.warmup_factor * self.temperature**2 *
                per_sample.mean())

    def _decouple(self, logits, is_target):
        """``log p_y``, ``log(1 - p_y)`` and ``log q`` (0 at the target,
        where ``q`` is not defined) of one network."""
        log_p = F.log_softmax(logits / self.temperature, dim=1)
        log_p_target = (log_p * is_target).sum(dim=1)
        log_rest = torch.logsumexp(
            log_p.masked_fill(is_target, float('-inf')), dim=1)
        log_q = (log_p - log_rest[:, None]).masked_fill(is_target, 0.0)
        return log_p_target, log_rest, log_q
