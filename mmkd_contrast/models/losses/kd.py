import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class KDLoss(nn.Module):
    """Vanilla knowledge distillation loss on logits.

    `Distilling the Knowledge in a Neural Network
    <https://arxiv.org/abs/1503.02531>`_.

    ``loss_weight * tau^2 * (1/B) * sum_i KL(p_t,i || p_s,i)`` with
    ``p_t,i = softmax(t_i / tau)`` and ``p_s,i = softmax(s_i / tau)``.

    Args:
        tau (float): Temperature. Defaults to 4.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, tau=4.0, loss_weight=1.0):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'KDLoss: tau must be positive, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, preds_S, preds_T, weight=None):
        """Compute the loss.

        Args:
            preds_S (Tensor): Student logits ``(B, C)``.
            preds_T (Tensor): Teacher logits ``(B, C)``, detached here.
            weight (Tensor, optional): Per-sample weight ``(B,)``. The
                weighted sum is still divided by ``B``.

        Returns:
            Tensor: Scalar loss.
        """
        if preds_S.shape != preds_T.shape or preds_S.dim() != 2:
            raise ValueError(
                'KDLoss expects student and teacher logits of the same '
                f'shape (B, C), got preds_S {tuple(preds_S.shape)} and '
                f'preds_T {tuple(preds_T.shape)}')
        log_p_s = F.log_softmax(preds_S.float() / self.tau, dim=1)
        log_p_t = F.log_softmax(preds_T.detach().float() / self.tau, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
        if weight is not None:
            if weight.shape != kl.shape:
                raise ValueError(
                    f'KDLoss: weight must have shape {tuple(kl.shape)}, got '
                    f'{tuple(weight.shape)}')
            kl = kl * weight.detach().float()
        return self.loss_weight * self.tau**2 * kl.sum() / kl.shape[0]
