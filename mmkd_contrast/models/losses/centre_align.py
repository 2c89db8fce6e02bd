"""PCKD's centre alignment: MSE between student and teacher classifiers."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .base_distill_loss import NON_NEGATIVE, BaseDistillLoss, LossInput


@MODELS.register_module()
class CentreAlignLoss(BaseDistillLoss):
    """Category-centre alignment term of PCKD (``L_CA``).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The category centres are the classifier weights ``W (C, d)`` (PCKD's
    ``centres`` taps, no connector), with the bias (the ``bias`` taps)
    appended as a last column when given::

        L = loss_weight * mean( ([W_s | b_s] - [W_t | b_t])^2 )

    The teacher side is detached. The term is only defined when the student
    and teacher feature widths agree; :meth:`is_applicable` lets a caller
    decide beforehand whether to use it, and :meth:`forward` raises when
    they differ.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    INPUTS = dict(
        s_centres=LossInput('(C, d)', 'student', 'classifier weight'),
        t_centres=LossInput('(C, d)', 'teacher', 'classifier weight'),
        s_bias=LossInput('(C,)', 'student', 'classifier bias'),
        t_bias=LossInput('(C,)', 'teacher', 'classifier bias'))
    HYPER_PARAMS = dict(loss_weight=NON_NEGATIVE)

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight=loss_weight)

    @staticmethod
    def is_applicable(d_s: int, d_t: int) -> bool:
        """Whether the term is defined for these feature widths.

        Args:
            d_s (int): Student feature width (``W_s.shape[1]``).
            d_t (int): Teacher feature width (``W_t.shape[1]``).

        Returns:
            bool: ``d_s == d_t``.
        """
        return d_s == d_t

    @staticmethod
    def _with_bias(centres, bias, side):
        if bias is None:
            return centres
        if bias.shape != centres.shape[:1]:
            raise ValueError(
                f'CentreAlignLoss expects {side}_bias of shape '
                f'({centres.shape[0]},) to match {side}_centres '
                f'{tuple(centres.shape)}, got {tuple(bias.shape)}')
        return torch.cat([centres, bias[:, None]], dim=1)

    def forward(self,
                s_centres: torch.Tensor,
                t_centres: torch.Tensor,
                s_bias: Optional[torch.Tensor] = None,
                t_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_centres (Tensor): Student classifier weight ``(C, d_s)``.
            t_centres (Tensor): Teacher classifier weight ``(C, d_t)``;
                detached here.
            s_bias (Tensor, optional): Student classifier bias ``(C,)``.
            t_bias (Tensor, optional): Teacher classifier bias ``(C,)``;
                detached here. Give both biases or neither.

        Returns:
            Tensor: Scalar loss.
        """
        if s_centres.dim() != 2 or t_centres.dim() != 2 or \
                s_centres.shape != t_centres.shape:
            raise ValueError(
                'CentreAlignLoss expects classifier weights of the same '
                f'shape (C, d), got s_centres {tuple(s_centres.shape)} and '
                f't_centres {tuple(t_centres.shape)}; with different widths '
                'the term is not defined (see CentreAlignLoss.is_applicable)')
        if (s_bias is None) != (t_bias is None):
            raise ValueError(
                'CentreAlignLoss expects both biases or neither, got s_bias '
                f'{"None" if s_bias is None else tuple(s_bias.shape)} and '
                f't_bias {"None" if t_bias is None else tuple(t_bias.shape)}')
        student = self._with_bias(s_centres, s_bias, 's')
        teacher = self._with_bias(
            t_centres.detach(), None if t_bias is None else t_bias.detach(),
            't')
        return self.loss_weight * F.mse_loss(student.float(),
                                             teacher.float())
