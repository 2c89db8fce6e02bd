"""MSDCRD: contrastive distillation on multi-scale decoupled local
features."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import get_dist_info

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import should_check_values
from ...utils.multi_scale_pooling import MultiScalePooling, check_scales
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, BaseDistillLoss,
                                LossInput)
from .infonce import batch_info_nce


@MODELS.register_module()
class MSDCRDLoss(BaseDistillLoss):
    """Multi-scale decoupled contrastive representation distillation loss.

    `Contrastive Representation Distillation via Multi-Scale Feature
    Decoupling <https://arxiv.org/abs/2502.05835>`_.

    Both maps are decoupled by :class:`MultiScalePooling` (the pooling of the
    ``MultiScaleDecoupler`` connector, run here as the loss's own step) into
    L2-normalised local features ``s_{i,m}``, ``t_{i,m}`` (image ``i``,
    region ``m`` of the ``k x k`` grid) for every scale ``k``. The positive of
    a student region is the teacher feature of the same image, scale and
    region.

    - Sample-wise term, per scale and region, contrasting the images of the
      batch (under ``torch.distributed`` the teacher keys of the whole global
      batch)::

          l_samp(k, m) = (1/B) sum_i -log softmax_j(s_{i,m}.t_{j,m}/tau)[i]
          L_samp = mean_k mean_m l_samp(k, m)

    - Feature-wise term, per scale with ``k > 1`` and image, contrasting the
      regions of that image::

          l_feat(k, i) = (1/k^2) sum_m
                         -log softmax_m'(s_{i,m}.t_{i,m'}/tau)[m]
          L_feat = mean_{k > 1} (1/B) sum_i l_feat(k, i)

      When no scale has ``k > 1`` the feature-wise term is 0.

    ``loss = loss_weight * (sample_weight * L_samp + feature_weight * L_feat)``

    With ``symmetric=True`` each InfoNCE term is the mean of the
    student-anchored and the teacher-anchored direction. The teacher is
    detached and the logits are computed in fp32. The loss keeps no memory
    bank: nothing grows with the dataset.

    Non-finite inputs raise on the first call (and on every call with
    ``MMKD_CONTRAST_DEBUG_CHECKS=1``, see
    :mod:`mmkd_contrast.utils.value_checks`); later, a non-finite loss stops
    training through :class:`~mmkd_contrast.engine.hooks.FiniteLossHook`.

    Args:
        scales (Sequence[int]): Decoupling grid sizes, distinct positive
            integers. Defaults to ``(1, 2, 4)``.
        temperature (float): Softmax temperature ``tau``. Defaults to 0.1.
        sample_weight (float): Weight of the sample-wise term.
            Defaults to 1.0.
        feature_weight (float): Weight of the feature-wise term.
            Defaults to 1.0.
        symmetric (bool): Average each InfoNCE term with its teacher-anchored
            direction. Defaults to False.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.

    Example:
        >>> loss = MSDCRDLoss()
        >>> s = ChannelAligner(64, 128)(torch.randn(8, 64, 8, 8))
        >>> loss(s, torch.randn(8, 128, 4, 4))  # both pooled to 4x4
    """

    #: In-batch contrast: every batch of every process needs at least this
    #: many samples (checked before training by TrainDataCheckHook).
    min_samples_per_process = 2

    INPUTS = dict(
        s_feat=LossInput('(B, C, H_s, W_s)', 'student',
                         'a ChannelAligner when the widths differ'),
        t_feat=LossInput('(B, C, H_t, W_t)', 'teacher'))
    HYPER_PARAMS = dict(
        temperature=POSITIVE,
        sample_weight=NON_NEGATIVE,
        feature_weight=NON_NEGATIVE,
        loss_weight=NON_NEGATIVE)

    def __init__(self,
                 scales: Sequence[int] = (1, 2, 4),
                 temperature: float = 0.1,
                 sample_weight: float = 1.0,
                 feature_weight: float = 1.0,
                 symmetric: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__(
            temperature=temperature,
            sample_weight=sample_weight,
            feature_weight=feature_weight,
            loss_weight=loss_weight)
        self.scales = check_scales(scales, type(self).__name__)
        self.symmetric = symmetric
        # All scales are decoupled at once, smallest first, so that the
        # regions of the scales k > 1 form one tail slice. Every term is a
        # per-region weighted sum, so the order does not change the value.
        self.pooling = MultiScalePooling(
            sorted(self.scales), type(self).__name__)
        ordered = self.pooling.scales
        # Constants of the step live on the device as (non-persistent)
        # buffers: a tensor made from host data in forward would be a
        # blocking host-to-device copy on a GPU.
        # L_samp = mean_k mean_m: region m of scale k weighs 1/(#scales k^2).
        self.register_buffer(
            '_sample_weights',
            torch.tensor([
                1.0 / (len(ordered) * k * k) for k in ordered
                for _ in range(k * k)
            ]),
            persistent=False)
        local = [k for k in ordered if k > 1]
        self._num_global = len(ordered) - len(local)  # 0 or 1 region
        self._has_feature_term = bool(local)
        # L_feat = mean_{k>1} (1/k^2) sum_m, contrasting regions of one scale.
        self.register_buffer(
            '_feature_weights',
            torch.tensor([
                1.0 / (len(local) * k * k) for k in local
                for _ in range(k * k)
            ]),
            persistent=False)
        # Pairs of regions of different scales, masked out of L_feat.
        blocks = torch.tensor(
            [i for i, k in enumerate(local) for _ in range(k * k)])
        self.register_buffer(
            '_feature_mask', blocks[:, None] != blocks[None, :],
            persistent=False)

    def _check_inputs(self, s_feat, t_feat):
        if s_feat.dim() != 4 or t_feat.dim() != 4:
            raise ValueError(
                'MSDCRDLoss expects feature maps (B, C, H, W), got s_feat '
                f'{tuple(s_feat.shape)} and t_feat {tuple(t_feat.shape)}')
        if s_feat.shape[0] != t_feat.shape[0]:
            raise ValueError(
                'MSDCRDLoss: s_feat and t_feat must hold the same images, got '
                f'batch sizes {s_feat.shape[0]} and {t_feat.shape[0]} '
                f'(shapes {tuple(s_feat.shape)} and {tuple(t_feat.shape)})')
        if s_feat.shape[1] != t_feat.shape[1]:
            raise ValueError(
                f'MSDCRDLoss: s_feat has {s_feat.shape[1]} channels but '
                f't_feat has {t_feat.shape[1]}; map the student through a '
                f'ChannelAligner connector (in_channels={s_feat.shape[1]}, '
                f'out_channels={t_feat.shape[1]}) first')
        _, world_size = get_dist_info()
        if s_feat.shape[0] * world_size < 2:
            raise ValueError(
                'MSDCRDLoss: the sample-wise term contrasts the images of the '
                'batch and has no negatives for a global batch of '
                f'{s_feat.shape[0] * world_size} image; use at least 2 images')
        if not should_check_values(self):
            # Reading values syncs with a GPU: first call, or debug checks.
            return
        for name, feat in (('s_feat', s_feat), ('t_feat', t_feat)):
            # One reduction instead of an elementwise test: a NaN or Inf
            # anywhere makes the sum non-finite.
            if not torch.isfinite(feat.sum(dtype=torch.float32)):
                if not torch.isfinite(feat).all():
                    raise ValueError(
                        f'MSDCRDLoss: {name} contains non-finite values (NaN '
                        'or Inf)')
                raise ValueError(
                    f'MSDCRDLoss: {name} holds values so large that their '
                    'sum overflows float32')

    def forward(self, s_feat: torch.Tensor,
                t_feat: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_feat (Tensor): Student map ``(B, C, H_s, W_s)``, already mapped
                to the teacher's channels.
            t_feat (Tensor): Teacher map ``(B, C, H_t, W_t)``; detached here.
                When the sizes differ both maps are adaptively average-pooled
                to ``(min(H_s, H_t), min(W_s, W_t))``; every scale must fit
                in that size.

        Returns:
            Tensor: Scalar fp32 loss.
        """
        self._check_inputs(s_feat, t_feat)
        s_feat = s_feat.float()
        t_feat = t_feat.detach().float()
        size = (min(s_feat.shape[2], t_feat.shape[2]),
                min(s_feat.shape[3], t_feat.shape[3]))
        too_large = [k for k in self.scales if k > size[0] or k > size[1]]
        if too_large:
            raise ValueError(
                f'MSDCRDLoss: scale {too_large[0]} is larger than the feature '
                f'map of size {size[0]}x{size[1]} (s_feat '
                f'{tuple(s_feat.shape[2:])}, t_feat {tuple(t_feat.shape[2:])} '
                'pooled to the smaller size); use scales of at most '
                f'{min(size)}')
        if tuple(s_feat.shape[2:]) != size:
            s_feat = F.adaptive_avg_pool2d(s_feat, size)
        if tuple(t_feat.shape[2:]) != size:
            t_feat = F.adaptive_avg_pool2d(t_feat, size)

        with torch.autocast(device_type=s_feat.device.type, enabled=False):
            # (B, R, C): every region of every scale, unit norm.
            s_local = self.pooling.decouple(s_feat)
            t_local = self.pooling.decouple(t_feat)
            loss_samp = self._sample_wise(s_local, t_local)
            if self._has_feature_term:
                loss_feat = self._feature_wise(
                    s_local[:, self._num_global:],
                    t_local[:, self._num_global:])
            else:
                loss_feat = loss_samp.new_zeros(())
        return self.loss_weight * (self.sample_weight * loss_samp +
                                   self.feature_weight * loss_feat)

    def _sample_wise(self, s_local, t_local):
        """L_samp from ``(B, R, C)`` local features: every region at once,
        contrasting the images (teacher keys of the global batch)."""
        per_image = batch_info_nce(
            s_local,
            t_local,
            self.temperature,
            self.symmetric,
            batch_dim=0,
            reduction='none')  # (R, B)
        return (per_image.mean(dim=1) * self._sample_weights).sum()

    def _feature_wise(self, s_local, t_local):
        """L_feat from the ``(B, R', C)`` regions of the scales ``k > 1``:
        each region against the regions of the same image and scale."""
        num = s_local.shape[1]
        # (B, R', R'); scores across different scales are masked out.
        logits = torch.matmul(s_local, t_local.transpose(1, 2))
        logits = logits / self.temperature
        logits = logits.masked_fill(self._feature_mask, float('-inf'))
        target = torch.arange(num, device=logits.device).repeat(
            s_local.shape[0])
        per_region = F.cross_entropy(
            logits.reshape(-1, num), target, reduction='none')
        if self.symmetric:
            # Teacher-anchored: t_{i,m}.s_{i,m'} is the transposed score.
            teacher_anchored = F.cross_entropy(
                logits.transpose(1, 2).reshape(-1, num),
                target,
                reduction='none')
            per_region = 0.5 * (per_region + teacher_anchored)
        return (per_region.view(-1, num).mean(dim=0) *
                self._feature_weights).sum()
