"""PCKD's feature alignment: cosine between projected student and teacher."""
from typing import Sequence, Union

import torch
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from .base_distill_loss import NON_NEGATIVE, BaseDistillLoss, LossInput

Features = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class FeatureAlignLoss(BaseDistillLoss):
    """Feature alignment term of PCKD (``L_FA``).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The student feature, already mapped to the teacher's width by the
    trained MLP ``g`` (PCKD's ``s_align`` connector, a
    :class:`~mmkd_contrast.models.ProjectionHead`
    ``Linear(d_s, 16 d_t) -> BatchNorm1d -> ReLU -> Linear(., d_t)``), is
    pulled towards the (detached) teacher feature::

        L = loss_weight * (2 - 2 * mean_n cos(s_feat_n, t_feat_n))

    The loss holds no parameters. Features may be vectors ``(N, d)``, maps
    ``(N, d, H, W)`` (global average pooled first) or tuples/lists of those
    (the last element is used, as backbones return a tuple of stages).

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    INPUTS = dict(
        s_feat=LossInput('(N, d_t) or (N, d_t, H, W)', 'student',
                         'through the s_align connector'),
        t_feat=LossInput('(N, d_t) or (N, d_t, H, W)', 'teacher'))
    HYPER_PARAMS = dict(loss_weight=NON_NEGATIVE)

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight=loss_weight)

    @staticmethod
    def _to_vectors(feat, name):
        if isinstance(feat, (tuple, list)):
            if len(feat) == 0:
                raise ValueError(f'FeatureAlignLoss: {name} is an empty '
                                 f'{type(feat).__name__}')
            feat = feat[-1]
        if feat.dim() == 4:
            return feat.mean(dim=(2, 3))
        if feat.dim() == 2:
            return feat
        raise ValueError(f'FeatureAlignLoss expects {name} of shape (N, d) '
                         f'or (N, d, H, W), got {tuple(feat.shape)}')

    def forward(self, s_feat: Features, t_feat: Features) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feat (Tensor | tuple[Tensor]): Student features after the
                ``s_align`` connector, ``d_t`` channels.
            t_feat (Tensor | tuple[Tensor]): Teacher features, ``d_t``
                channels; detached here.

        Returns:
            Tensor: Scalar loss.
        """
        s_feat = self._to_vectors(s_feat, 's_feat')
        t_feat = self._to_vectors(t_feat, 't_feat').detach()
        if s_feat.shape != t_feat.shape:
            raise ValueError(
                'FeatureAlignLoss expects s_feat and t_feat of the same '
                f'shape (N, d_t) after pooling, got s_feat '
                f'{tuple(s_feat.shape)} and t_feat {tuple(t_feat.shape)}')
        cos = F.cosine_similarity(s_feat.float(), t_feat.float(), dim=1)
        return self.loss_weight * (2 - 2 * cos.mean())
