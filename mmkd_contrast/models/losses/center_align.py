"""PCKD's centre alignment: MSE between student and teacher classifiers."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class CenterAlignLoss(nn.Module):
    """Category-centre alignment term of PCKD (``L_CA``).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The category centres are the classifier weights ``W (C, d)``, with the
    bias appended as a last column when given::

        L = loss_weight * mean( ([W_s | b_s] - [W_t | b_t])^2 )

    The teacher side is detached. The term is only defined when the student
    and teacher feature widths agree; :meth:`is_applicable` lets a caller
    decide beforehand whether to use it, and :meth:`forward` raises when
    they differ.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @staticmethod
    def is_applicable(d_s, d_t):
        """Whether the term is defined for these feature widths.

        Args:
            d_s (int): Student feature width (``W_s.shape[1]``).
            d_t (int): Teacher feature width (``W_t.shape[1]``).

        Returns:
            bool: ``d_s == d_t``.
        """
        return d_s == d_t

    @staticmethod
    def _centres(weight, bias, side):
        if bias is None:
            return weight
        if bias.shape != weight.shape[:1]:
            raise ValueError(
                f'CenterAlignLoss expects b_{side} of shape '
                f'({weight.shape[0]},) to match w_{side} '
                f'{tuple(weight.shape)}, got {tuple(bias.shape)}')
        return torch.cat([weight, bias[:, None]], dim=1)

    def forward(self, w_s, w_t, b_s=None, b_t=None):
        """Compute the loss.

        Args:
            w_s (Tensor): Student classifier weight ``(C, d_s)``.
            w_t (Tensor): Teacher classifier weight ``(C, d_t)``; detached
                here.
            b_s (Tensor, optional): Student classifier bias ``(C,)``.
            b_t (Tensor, optional): Teacher classifier bias ``(C,)``;
                detached here. Give both biases or neither.

        Returns:
            Tensor: Scalar loss.
        """
        if w_s.dim() != 2 or w_t.dim() != 2 or w_s.shape != w_t.shape:
            raise ValueError(
                'CenterAlignLoss expects classifier weights of the same shape '
                f'(C, d), got w_s {tuple(w_s.shape)} and w_t '
                f'{tuple(w_t.shape)}; with different widths the term is not '
                'defined (see CenterAlignLoss.is_applicable)')
        if (b_s is None) != (b_t is None):
            raise ValueError(
                'CenterAlignLoss expects both biases or neither, got b_s '
                f'{"None" if b_s is None else tuple(b_s.shape)} and b_t '
                f'{"None" if b_t is None else tuple(b_t.shape)}')
        centres_s = self._centres(w_s, b_s, 's')
        centres_t = self._centres(
            w_t.detach(), None if b_t is None else b_t.detach(), 't')
        return self.loss_weight * F.mse_loss(centres_s.float(),
                                             centres_t.float())
