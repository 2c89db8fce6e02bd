"""LFCC's sample-level contrastive loss on compact embeddings."""
import torch
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import should_check_values
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, BaseDistillLoss,
                                LossInput)
from .infonce import batch_info_nce


@MODELS.register_module()
class LFCCLoss(BaseDistillLoss):
    """Sample-level contrastive loss between compact low-frequency
    embeddings of the student and the teacher.

    `Low-Frequency Components for Heterogeneous Knowledge Distillation
    <https://arxiv.org/abs/2405.18524>`_.

    With ``z^s``, ``z^t`` L2-normalised here, the student-anchored direction
    is::

        L = -(1/B) * sum_i log(exp(z^s_i . z^t_i / tau)
                               / sum_j exp(z^s_i . z^t_j / tau))

    the positive being the teacher embedding of the same image and the
    negatives the other images of the batch. ``symmetric=True`` averages it
    with the teacher-anchored direction. The result is multiplied by
    ``loss_weight``. Logits are computed in fp32.

    ``t_emb`` is *not* detached: it is the output of a trained projector
    applied to the frozen teacher feature, and that projector learns from
    this loss. Detach the teacher feature before its projector (the
    distiller runs the teacher under ``no_grad``).

    Under ``torch.distributed`` the negatives are the whole global batch:
    keys of both sides are gathered from every rank with their gradient, so
    that gradients averaged over ranks (as DDP does) equal those of the loss
    on the concatenated batch.

    Non-finite inputs raise on the first call (and on every call with
    ``MMKD_CONTRAST_DEBUG_CHECKS=1``, see
    :mod:`mmkd_contrast.utils.value_checks`); later, a non-finite loss stops
    training through :class:`~mmkd_contrast.engine.hooks.FiniteLossHook`.

    Args:
        temperature (float): Softmax temperature ``tau``. Defaults to 0.1.
        symmetric (bool): Average the student- and teacher-anchored
            directions. Defaults to True.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    #: In-batch contrast: every batch of every process needs at least this
    #: many samples (checked before training by TrainDataCheckHook).
    min_samples_per_process = 2

    INPUTS = dict(
        s_emb=LossInput('(B, D)', 'student', 'through its projector'),
        t_emb=LossInput('(B, D)', 'teacher',
                        'through its trained projector; not detached'))
    HYPER_PARAMS = dict(temperature=POSITIVE, loss_weight=NON_NEGATIVE)

    def __init__(self,
                 temperature: float = 0.1,
                 symmetric: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__(temperature=temperature, loss_weight=loss_weight)
        self.symmetric = symmetric

    def forward(self, s_emb: torch.Tensor,
                t_emb: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            s_emb (Tensor): Student embeddings ``(B, D)``.
            t_emb (Tensor): Teacher embeddings ``(B, D)`` (output of the
                teacher-side projector; keeps its gradient).

        Returns:
            Tensor: Scalar loss.
        """
        if s_emb.dim() != 2 or s_emb.shape != t_emb.shape:
            raise ValueError(
                'LFCCLoss expects student and teacher embeddings of the same '
                f'shape (B, D), got s_emb {tuple(s_emb.shape)} and t_emb '
                f'{tuple(t_emb.shape)}')
        # Reading values syncs with a GPU: first call, or debug checks on.
        for name, z in (('s_emb', s_emb),
                        ('t_emb', t_emb)) if should_check_values(self) else ():
            if not torch.isfinite(z).all():
                raise ValueError(
                    f'LFCCLoss: {name} contains non-finite values (NaN or '
                    'inf)')
        s_emb = F.normalize(s_emb.float(), dim=1, eps=1e-12)
        t_emb = F.normalize(t_emb.float(), dim=1, eps=1e-12)
        loss = batch_info_nce(
            s_emb,
            t_emb,
            self.temperature,
            symmetric=self.symmetric,
            batch_dim=0,
            detach_teacher=False)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, '
                f'symmetric={self.symmetric}, loss_weight={self.loss_weight}')
