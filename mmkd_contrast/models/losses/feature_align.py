"""PCKD's feature alignment: cosine between projected student and teacher."""
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class FeatureAlignLoss(nn.Module):
    """Feature alignment term of PCKD (``L_FA``).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The student feature goes through a trained MLP
    ``g = Linear(d_s, h) -> BatchNorm1d(h) -> ReLU -> Linear(h, d_t)`` with
    ``h = hidden_ratio * d_t``, and is pulled towards the (detached) teacher
    feature::

        L = loss_weight * (2 - 2 * mean_n cos(g(f_s_n), f_t_n))

    Features may be vectors ``(N, d)``, maps ``(N, d, H, W)`` (global
    average pooled first) or tuples/lists of those (the last element is
    used, as backbones return a tuple of stages).

    Args:
        in_channels (int): Student feature width ``d_s``.
        out_channels (int): Teacher feature width ``d_t``.
        hidden_ratio (int): Hidden width of ``g`` as a multiple of
            ``out_channels``. Defaults to 16.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, in_channels, out_channels, hidden_ratio=16,
                 loss_weight=1.0):
        super().__init__()
        for name, value in (('in_channels', in_channels),
                            ('out_channels', out_channels),
                            ('hidden_ratio', hidden_ratio)):
            if int(value) != value or value < 1:
                raise ValueError(f'FeatureAlignLoss: {name} must be a '
                                 f'positive integer, got {value}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.loss_weight = loss_weight
        hidden = hidden_ratio * out_channels
        self.projector = nn.Sequential(
            nn.Linear(in_channels, hidden), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True), nn.Linear(hidden, out_channels))

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

    def forward(self, f_s, f_t):
        """Compute the loss.

        Args:
            f_s (Tensor | tuple[Tensor]): Student features, ``d_s`` channels.
            f_t (Tensor | tuple[Tensor]): Teacher features, ``d_t``
                channels; detached here.

        Returns:
            Tensor: Scalar loss.
        """
        f_s = self._to_vectors(f_s, 'f_s')
        f_t = self._to_vectors(f_t, 'f_t').detach()
        if (f_s.shape[0] != f_t.shape[0] or f_s.shape[1] != self.in_channels
                or f_t.shape[1] != self.out_channels):
            raise ValueError(
                'FeatureAlignLoss expects f_s (N, in_channels='
                f'{self.in_channels}) and f_t (N, out_channels='
                f'{self.out_channels}) after pooling, got f_s '
                f'{tuple(f_s.shape)} and f_t {tuple(f_t.shape)}')
        projected = self.projector(f_s)
        cos = F.cosine_similarity(projected.float(), f_t.float(), dim=1)
        return self.loss_weight * (2 - 2 * cos.mean())
