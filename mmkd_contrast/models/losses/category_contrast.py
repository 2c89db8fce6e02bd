"""PCKD's category-centre contrast: supervised contrast of class scores."""
from typing import Optional

import torch
from mmengine.dist import get_dist_info

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import all_gather_cat, should_check_values
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, BaseDistillLoss,
                                LossInput)


@MODELS.register_module()
class CategoryContrastLoss(BaseDistillLoss):
    """Category-centre contrast of PCKD (``L_CC``).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The inputs are score vectors in ``R^C``: ``s_scores = e_s(f_s) @ W_s.T``
    and ``t_scores = e_t(f_s) @ W_t.T``, made by PCKD from its ``s_embed``
    and ``t_embed`` connectors (both heads take the *student* feature ``f_s``;
    the category centres ``W`` are the classifier weights). The ``2N``
    anchors ``{s_scores_n} ∪ {t_scores_n}`` go into a supervised contrastive
    loss whose positives are the other anchors with the same label; for
    anchor ``a``::

        l_a = -(tau / tau_b) / |P(a)| * sum_{p in P(a)}
                  [ u_a.u_p / tau - log sum_{k != a} exp(u_a.u_k / tau) ]

        l_n = l(s_scores_n) + l(t_scores_n)
        L   = loss_weight * (1/N) * sum_n v_n * l_n

    ``t_scores`` is *not* a teacher tensor: it depends on the trained head
    ``e_t`` and on the student feature, so it keeps its gradient (the frozen
    ``W_t`` is the caller's business). Logits are computed in fp32 with
    autocast off.

    When |P(a)| = 0: with both sides given, ``t_scores_n`` is always a
    positive of ``s_scores_n`` and vice versa, so every anchor has a
    positive, even when every label in the batch is distinct. An anchor can
    only lack positives when ``t_scores`` is None (one side only) and its
    label occurs once in the (global) batch; such an anchor contributes 0 to
    the sum, which is still divided by ``N``.

    Under ``torch.distributed`` the keys (positives and negatives) are the
    anchors of the whole global batch, gathered with their gradient, so that
    DDP-averaged gradients equal those of one process on the concatenated
    batch; every rank must pass the same ``N``. With one process this is
    exactly the formula above.

    The label range is checked on the first call (and on every call with
    ``MMKD_CONTRAST_DEBUG_CHECKS=1``, see
    :mod:`mmkd_contrast.utils.value_checks`): reading it makes the host
    wait for a GPU.

    Args:
        temperature (float): ``tau``. Defaults to 4.0.
        base_temperature (float): ``tau_b``; the loss is scaled by
            ``tau / tau_b``. Defaults to 0.07.
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Example:
        >>> loss = CategoryContrastLoss()
        >>> s_scores, t_scores = torch.randn(8, 10), torch.randn(8, 10)
        >>> labels = torch.randint(0, 10, (8,))
        >>> loss(s_scores, t_scores, labels).shape
        torch.Size([])
    """

    #: In-batch contrast: every batch of every process needs at least this
    #: many samples (checked before training by TrainDataCheckHook).
    min_samples_per_process = 2

    INPUTS = dict(
        s_scores=LossInput('(N, C)', 'distiller', 'e_s(f_s) @ W_s.T'),
        t_scores=LossInput('(N, C)', 'distiller', 'e_t(f_s) @ W_t.T'),
        labels=LossInput('(N,)', 'data', 'integer labels in [0, C)'),
        weight=LossInput('(N,)', 'distiller', 'per-sample preview weight'))
    HYPER_PARAMS = dict(
        temperature=POSITIVE,
        base_temperature=POSITIVE,
        loss_weight=NON_NEGATIVE)

    def __init__(self,
                 temperature: float = 4.0,
                 base_temperature: float = 0.07,
                 loss_weight: float = 1.0) -> None:
        super().__init__(
            temperature=temperature,
            base_temperature=base_temperature,
            loss_weight=loss_weight)

    def _check_inputs(self, s_scores, t_scores, labels, weight):
        if s_scores.dim() != 2:
            raise ValueError(
                'CategoryContrastLoss expects s_scores of shape (N, C), got '
                f'{tuple(s_scores.shape)}')
        if t_scores is not None and t_scores.shape != s_scores.shape:
            raise ValueError(
                'CategoryContrastLoss expects s_scores and t_scores of the '
                f'same shape (N, C), got s_scores {tuple(s_scores.shape)} and '
                f't_scores {tuple(t_scores.shape)}')
        num, num_classes = s_scores.shape
        if num == 0:
            raise ValueError('CategoryContrastLoss got an empty batch: '
                             f's_scores {tuple(s_scores.shape)}')
        if labels.shape != (num, ):
            raise ValueError(
                f'CategoryContrastLoss expects labels of shape ({num},) to '
                f'match s_scores {tuple(s_scores.shape)}, got '
                f'{tuple(labels.shape)}')
        if labels.is_floating_point() or labels.is_complex():
            raise ValueError('CategoryContrastLoss expects integer labels, '
                             f'got dtype {labels.dtype}')
        if weight is not None and weight.shape != (num, ):
            raise ValueError(
                f'CategoryContrastLoss expects weight of shape ({num},) to '
                f'match s_scores {tuple(s_scores.shape)}, got '
                f'{tuple(weight.shape)}')
        if not should_check_values(self):
            # Reading values syncs with a GPU: first call, or debug checks.
            return
        low, high = int(labels.min()), int(labels.max())
        bad = low if low < 0 else high if high >= num_classes else None
        if bad is not None:
            raise ValueError(
                f'CategoryContrastLoss: label {bad} is outside [0, '
                f'{num_classes}) (C = s_scores.shape[1] = {num_classes})')

    def forward(self,
                s_scores: torch.Tensor,
                t_scores: Optional[torch.Tensor],
                labels: torch.Tensor,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_scores (Tensor): Student-centre scores ``(N, C)``.
            t_scores (Tensor | None): Teacher-centre scores ``(N, C)``, or
                None to contrast the ``N`` anchors of ``s_scores`` alone (then
                ``l_n = l(s_scores_n)``).
            labels (Tensor): Integer labels ``(N,)`` in ``[0, C)``.
            weight (Tensor, optional): Per-sample weight ``v`` of shape
                ``(N,)`` (the preview weight), detached here. The weighted
                sum is still divided by ``N``.

        Returns:
            Tensor: Scalar loss.
        """
        self._check_inputs(s_scores, t_scores, labels, weight)
        num = s_scores.shape[0]
        sides = 1 if t_scores is None else 2
        anchors = s_scores if t_scores is None else torch.cat(
            [s_scores, t_scores], dim=0)
        anchor_labels = labels.to(anchors.device).repeat(sides)

        rank, world_size = get_dist_info()
        keys = all_gather_cat(anchors, with_grad=True)
        key_labels = all_gather_cat(anchor_labels)
        if keys.shape[0] < 2:
            raise ValueError(
                'CategoryContrastLoss needs at least 2 anchors in the global '
                f'batch, got {keys.shape[0]} (N = {num}, t_scores given: '
                f'{t_scores is not None}, {world_size} process(es))')

        device_type = anchors.device.type
        with torch.autocast(device_type=device_type, enabled=False):
            logits = anchors.float() @ keys.float().t() / self.temperature
        num_anchors = anchors.shape[0]
        self_index = rank * num_anchors + torch.arange(
            num_anchors, device=anchors.device)
        key_index = torch.arange(keys.shape[0], device=anchors.device)
        is_self = self_index[:, None] == key_index[None, :]
        positive = (anchor_labels[:, None] == key_labels[None, :]) & ~is_self

        # log sum_{k != a} exp(logit_ak); finite since every row has a k != a.
        log_denominator = torch.logsumexp(
            logits.masked_fill(is_self, float('-inf')), dim=1)
        num_positives = positive.sum(dim=1)
        mean_positive_logit = (logits.masked_fill(~positive, 0.).sum(dim=1) /
                               num_positives.clamp(min=1))
        per_anchor = -(self.temperature / self.base_temperature) * (
            mean_positive_logit - log_denominator)
        per_anchor = torch.where(num_positives > 0, per_anchor,
                                 torch.zeros_like(per_anchor))

        per_sample = per_anchor.view(sides, num).sum(dim=0)
        if weight is not None:
            per_sample = per_sample * weight.detach().to(per_sample)
        return self.loss_weight * per_sample.sum() / num
