"""CRD: contrastive distillation (NCE) against memory banks of embeddings."""
from typing import Dict, Optional

import torch
import torch.distributed as dist
from mmengine.dist import get_dist_info

from mmkd_contrast.registry import MODELS
from ..memories import CRDMemoryBank
from .base_distill_loss import (NON_NEGATIVE, POSITIVE, POSITIVE_INT,
                                UNIT_INTERVAL, BaseDistillLoss, LossInput)
from .crd_inputs import check_inputs, check_neg_idx
from .crd_nce import nce_loss


def _forget_z_known(module, incompatible_keys):
    """After a state dict is loaded, ``Z`` is read again once."""
    module._z_known = None


def _from_bank(name, doc, settable=False):
    """A property of :class:`CRDLoss` that is the bank's attribute
    ``name``."""

    def setter(self, value):
        setattr(self.bank, name, value)

    return property(lambda self: getattr(self.bank, name),
                    setter if settable else None, doc=doc)


@MODELS.register_module()
class CRDLoss(BaseDistillLoss):
    """Contrastive representation distillation loss (NCE against memory
    banks).

    `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (Tian, Krishnan, Isola, ICLR 2020).

    The loss receives embeddings already produced by the two trainable heads
    (e.g. :class:`ProjectionHead`, ``Linear(d -> feat_dim)`` + L2
    normalisation): ``s_emb`` from the student feature and ``t_emb`` from the
    (detached) teacher feature. ``t_emb`` is *not* detached here: the
    teacher-anchored term is what trains the teacher-side head.

    Two memory banks of ``num_samples`` rows hold one embedding per training
    image, of the student (``memory_s``) and of the teacher (``memory_t``).
    For anchor ``i`` with dataset index ``y_i`` the candidates are row
    ``y_i`` (the positive) and ``K = num_negatives`` other rows (negatives,
    never ``y_i`` itself; see ``neg_sampling``). With
    ``P = exp(v . u / temperature) / Z`` and ``c = K / N`` the NCE loss of
    one direction is

    ``-(1/B) sum_i [ log(P_0 / (P_0 + c)) + sum_j log(c / (P_j + c)) ]``

    computed in fp32 from the logits as ``softplus`` terms (no ``eps`` is
    added, and ``exp`` cannot overflow). The total is
    ``loss_weight * (L(t_emb vs memory_s) + L(s_emb vs memory_t))``.

    The memory banks are a :class:`CRDMemoryBank` (``self.bank``: buffers
    ``bank.memory_s``, ``bank.memory_t``, ``bank.memory_labels``), which
    owns their initialisation, the momentum update, negative sampling, the
    gather of the batch across processes and the scoring of anchors against
    bank rows. This class holds the NCE part. In one call:

    - The inputs are checked. In training mode the batch of every process
      is gathered and its labels are stored in the bank (before sampling,
      so the current global batch counts for ``'other_class'``).
    - ``K`` negatives are drawn (or ``neg_idx`` is used) and the anchors
      are scored against the banks as they were before this call.
    - ``Z`` is estimated per direction at the first call as
      ``mean(exp(logits)) * N`` over the ``B x (K + 1)`` scores (positives
      included) and then kept; under ``torch.distributed`` the mean is over
      all ranks' scores. ``z_s`` (student anchors) and ``z_t`` (teacher
      anchors) are buffers; a negative value means "not estimated yet". A
      batch whose scores are not finite leaves ``Z`` unestimated.
    - In training mode the rows of the global batch are then updated with
      the detached new embeddings (see :meth:`CRDMemoryBank.update`: last
      occurrence of a repeated image, non-finite rows keep their old
      value). All ranks apply the same update, so the banks stay identical
      and DDP's buffer broadcast (``broadcast_buffers=True``) is
      unnecessary. Every rank must pass the same batch size (mmengine's
      default sampler pads the data so that they do).
    - ``neg_sampling='other_class'`` (the CRD authors' CIFAR recipe, used
      by every shipped CRD config) draws each anchor's ``K`` negatives
      without replacement among the rows of other classes and needs the
      batch's ``labels``; ``'random'`` draws uniformly over the ``N - 1``
      other rows, with replacement (no labels needed).
    - Banks, labels and ``Z`` are persistent buffers: they are saved in and
      resumed from checkpoints. Checkpoints written before the banks moved
      into ``bank`` (keys ``memory_s``, ``memory_t``, ``memory_labels``)
      still load.
    - No step after the first makes the host wait for a GPU: the checks of
      values (``sample_idx`` in range, labels non-negative, ``neg_idx``)
      run on the first call only, or on every call with
      ``MMKD_CONTRAST_DEBUG_CHECKS=1`` (see
      :mod:`mmkd_contrast.utils.value_checks`); whether ``Z`` is estimated
      is read once.

    Args:
        num_samples (int): ``N``, the number of training images; the
            ``sample_idx`` passed to :meth:`forward` must lie in
            ``[0, num_samples)``.
        feat_dim (int): Embedding size. Defaults to 128.
        num_negatives (int): ``K``, negatives per anchor; must be smaller
            than ``num_samples``. Defaults to 16384.
        temperature (float): ``tau``. Defaults to 0.07.
        momentum (float): Bank momentum ``m`` in ``[0, 1]``. Defaults to
            0.5.
        neg_sampling (str): ``'other_class'`` (needs ``labels``; a
            distiller config must map ``labels='data.gt_label'`` in its
            ``loss_inputs``) or ``'random'``. Defaults to ``'random'``, so
            that the loss works without labels; the shipped configs set
            ``'other_class'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.

    Example:
        >>> import torch
        >>> import torch.nn.functional as F
        >>> loss = CRDLoss(num_samples=100, feat_dim=8, num_negatives=10)
        >>> s = F.normalize(torch.randn(4, 8), dim=1)
        >>> t = F.normalize(torch.randn(4, 8), dim=1)
        >>> loss(s, t, torch.tensor([3, 14, 15, 92])).shape
        torch.Size([])
    """

    #: Buffers that moved into ``bank``: checkpoints written before hold
    #: them under the loss's own prefix.
    _MOVED_TO_BANK = ('memory_s', 'memory_t', 'memory_labels')

    INPUTS = dict(
        s_emb=LossInput('(B, feat_dim)', 'student', 'through s_embed'),
        t_emb=LossInput('(B, feat_dim)', 'teacher',
                        'through t_embed; not detached'),
        sample_idx=LossInput('(B,)', 'data', 'dataset indices'),
        labels=LossInput('(B,)', 'data',
                         "needed by neg_sampling='other_class'"),
        neg_idx=LossInput('(B, num_negatives)', 'distiller',
                          'explicit negatives (tests)'))
    #: ``num_samples``, ``feat_dim`` and ``momentum`` are the bank's; they
    #: are declared here so that a config is checked before anything is
    #: built, and checked again by :class:`CRDMemoryBank` for direct use.
    HYPER_PARAMS = dict(
        num_samples=POSITIVE_INT,
        feat_dim=POSITIVE_INT,
        num_negatives=POSITIVE_INT,
        temperature=POSITIVE,
        momentum=UNIT_INTERVAL,
        loss_weight=NON_NEGATIVE)

    def __init__(self,
                 num_samples: int,
                 feat_dim: int = 128,
                 num_negatives: int = 16384,
                 temperature: float = 0.07,
                 momentum: float = 0.5,
                 neg_sampling: str = 'random',
                 loss_weight: float = 1.0) -> None:
        # The bank's settings are checked by the contract (named CRDLoss)
        # and stored on the bank only (read back through properties).
        super().__init__(
            num_negatives=num_negatives,
            temperature=temperature,
            loss_weight=loss_weight)
        self.check_hyper_params(
            num_samples=num_samples, feat_dim=feat_dim, momentum=momentum)
        self.bank = CRDMemoryBank(num_samples, feat_dim, momentum,
                                  neg_sampling)
        if num_negatives >= num_samples:
            raise ValueError(
                f'CRDLoss: num_negatives ({num_negatives}) must be smaller '
                f'than num_samples ({num_samples}), the bank rows it is '
                'drawn from: set num_negatives below num_samples too (the '
                'CIFAR-100 configs draw 16384 of 50000 rows, about a third)')
        self.register_buffer('z_s', torch.tensor(-1.))
        self.register_buffer('z_t', torch.tensor(-1.))
        # Whether z_s and z_t hold an estimate, known on the host so that a
        # step does not read them (a sync with a GPU); None: not known yet
        # (read once), also after loading a state dict.
        self._z_known = None
        self.register_load_state_dict_post_hook(_forget_z_known)

    # The bank's settings, read through the loss: the train-data check reads
    # ``num_samples``; tests and benchmarks switch ``neg_sampling``.
    num_samples = _from_bank('num_samples', 'int: ``N``, rows of the banks.')
    feat_dim = _from_bank('feat_dim', 'int: Embedding size.')
    momentum = _from_bank('momentum', 'float: Bank momentum.', settable=True)
    neg_sampling = _from_bank(
        'neg_sampling', 'str: How negatives are drawn.', settable=True)

    def required_inputs(self) -> Dict[str, str]:
        """Optional :meth:`forward` arguments this configuration needs.

        Read by :class:`SingleTeacherDistiller` when it is built, so that a
        config missing one fails before training.

        Returns:
            dict: Argument name to the reason it is needed.
        """
        if self.neg_sampling == 'other_class':
            return dict(labels="neg_sampling='other_class' draws negatives "
                        "of other classes than the anchor's")
        return {}

    def extra_repr(self) -> str:
        return (f'num_negatives={self.num_negatives}, '
                f'temperature={self.temperature}, '
                f'loss_weight={self.loss_weight}')

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Checkpoints written before the banks became the ``bank`` submodule
        # hold ``<prefix>memory_s`` etc.; read them as ``bank.memory_s``.
        # The submodule is loaded after this, from the renamed keys.
        for name in self._MOVED_TO_BANK:
            old, new = prefix + name, f'{prefix}bank.{name}'
            if old in state_dict and new not in state_dict:
                state_dict[new] = state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self,
                s_emb: torch.Tensor,
                t_emb: torch.Tensor,
                sample_idx: torch.Tensor,
                labels: Optional[torch.Tensor] = None,
                neg_idx: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the loss, then (in training mode) update the banks.

        Args:
            s_emb (Tensor): Student embeddings ``(B, feat_dim)``, normally
                L2-normalised.
            t_emb (Tensor): Teacher-side embeddings ``(B, feat_dim)``; not
                detached (the head that made them is trained by this loss).
            sample_idx (Tensor): ``(B,)`` integer dataset indices of the
                images.
            labels (Tensor, optional): ``(B,)`` non-negative integer class
                labels; required when ``neg_sampling='other_class'``.
            neg_idx (Tensor, optional): ``(B, num_negatives)`` bank rows to
                use as negatives instead of sampling them with
                :meth:`sample_negatives`. Must not contain the anchor's own
                index.

        Returns:
            Tensor: Scalar loss.
        """
        check_inputs(self, s_emb, t_emb, sample_idx, labels)
        device = self.bank.device
        sample_idx = sample_idx.to(device)
        if labels is not None:
            labels = labels.to(device)

        if self.training:
            batch = self.bank.gather(sample_idx, s_emb, t_emb, labels)
            if batch.labels is not None:
                # Known before sampling, so that this batch's images are
                # excluded as other-class negatives.
                self.bank.store_labels(batch.sample_idx, batch.labels)

        if neg_idx is None:
            neg_idx = self.sample_negatives(sample_idx, labels)
        else:
            neg_idx = check_neg_idx(self, neg_idx, sample_idx)
        cand_idx = torch.cat([sample_idx[:, None], neg_idx], dim=1)

        with torch.autocast(device_type=s_emb.device.type, enabled=False):
            logits_s = self.bank.scores(s_emb.float(), cand_idx, 't') / (
                self.temperature)
            logits_t = self.bank.scores(t_emb.float(), cand_idx, 's') / (
                self.temperature)
            if torch.compiler.is_compiling():
                # No host read in a compiled graph: estimate at every step,
                # kept only where Z is not estimated yet.
                self._estimate_z(logits_s.detach(), logits_t.detach(),
                                 keep_known=True)
            elif not self._z_estimated():
                self._estimate_z(logits_s.detach(), logits_t.detach())
            loss = (self._nce(logits_s, self.z_s) +
                    self._nce(logits_t, self.z_t))

        if self.training:
            self.bank.update(batch.sample_idx, batch.s_emb, batch.t_emb)
        return self.loss_weight * loss

    def sample_negatives(self, sample_idx, labels=None, generator=None):
        """Draw ``num_negatives`` bank rows per anchor, never the anchor's
        own row (see :meth:`CRDMemoryBank.sample_negatives`).

        Args:
            sample_idx (Tensor): ``(B,)`` dataset indices of the anchors.
            labels (Tensor, optional): ``(B,)`` labels of the anchors;
                required for ``'other_class'``.
            generator (torch.Generator, optional): Source of randomness, on
                the banks' device. Defaults to the global generator.

        Returns:
            Tensor: ``(B, num_negatives)`` long indices into the banks.
        """
        return self.bank.sample_negatives(sample_idx, self.num_negatives,
                                          labels, generator)

    def _z_estimated(self):
        """Whether ``Z`` has been estimated; reads the buffers (a sync with
        a GPU) only until it has."""
        if not self._z_known:
            self._z_known = bool((self.z_s > 0) & (self.z_t > 0))
        return self._z_known

    @torch.no_grad()
    def _estimate_z(self, logits_s, logits_t, keep_known=False):
        """Set ``Z = mean(exp(logits)) * N`` per direction, the mean taken
        over the scores of every rank.

        With ``keep_known`` (a compiled step) an estimated ``Z`` is kept
        and nothing is read on the host."""
        stats = torch.stack([
            logits_s.double().exp().sum(),
            logits_t.double().exp().sum(),
            torch.tensor(logits_s.numel(), dtype=torch.float64,
                         device=logits_s.device),
        ])
        if get_dist_info()[1] > 1:
            dist.all_reduce(stats)
        estimate = stats[:2] / stats[2] * self.num_samples
        # A batch of non-finite scores leaves Z unestimated (the next batch
        # estimates it) rather than poisoning every later step.
        usable = torch.isfinite(estimate) & (estimate > 0)
        if keep_known:
            usable = usable & (torch.stack([self.z_s, self.z_t]) <= 0)
        self.z_s.copy_(torch.where(usable[0], estimate[0], self.z_s))
        self.z_t.copy_(torch.where(usable[1], estimate[1], self.z_t))
        if keep_known:
            self._z_known = None  # read again if a later step runs eager
            return
        # Read once, at the first step (a sync with a GPU); a batch that
        # gave no usable estimate makes the next one estimate again.
        self._z_known = bool(usable.all())

    def _nce(self, logits, z):
        """NCE loss of one direction (:func:`.crd_nce.nce_loss`)."""
        return nce_loss(logits, z, self.num_negatives, self.num_samples)
