"""CRD: contrastive distillation against memory banks of embeddings."""
import math

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import (all_gather_cat, get_rank_and_world_size,
                                 should_check_values)

NEG_SAMPLINGS = ('random', 'other_class')

# Labels stored for bank rows whose image has not been seen yet.
UNSEEN_LABEL = -1


def _softplus(x, threshold=20.):
    """``log(1 + exp(x))``, about 3x faster on a CPU than ``F.softplus``
    (whose ``log1p`` is not vectorised there), with the same precision as
    the reference formula's ``log(P + c)``; above ``threshold`` it is
    ``x`` up to ``exp(-threshold)``."""
    return (x.clamp(max=threshold).exp().add(1).log() +
            (x - threshold).clamp(min=0))


def _last_occurrences(indices):
    """The rows to write and, for each, the batch position whose value it
    takes: the last occurrence of its index, so that a batch holding an
    image twice writes the same, deterministic row for it from every
    occurrence.

    Sizes do not depend on the values (no ``unique``, no sync with a GPU):
    the rows are ``indices`` themselves, duplicates included.
    """
    positions = torch.arange(indices.numel(), device=indices.device)
    same = indices[:, None] == indices[None, :]
    last = torch.where(same, positions[None, :], -1).amax(dim=1)
    return indices, last


def _forget_z_known(module, incompatible_keys):
    """After a state dict is loaded, ``Z`` is read again once."""
    module._z_known = None


def draw_other_class(row_labels, sample_idx, labels, num, generator=None):
    """Draw ``num`` distinct rows per anchor, none of the anchor's class.

    Each anchor gets a uniformly random ``num``-subset of the rows whose
    label differs from its own, independently of the other anchors: every
    row gets a uniform random key, rows of the anchor's class get 1 added
    (so they sort after every other-class row), the anchor's own row gets
    3, and the ``num`` smallest keys are taken with one ``topk`` over the
    ``(B, N)`` keys. No Python loop over the batch, no host-device
    synchronisation, and the random numbers consumed depend only on the
    shapes: processes seeded alike draw alike.

    If fewer than ``num`` rows have another label, the remainder are rows
    of the anchor's own class (never the anchor's own row), drawn at
    random; this cannot happen when ``num`` is at most ``N`` minus the
    largest class.

    Args:
        row_labels (Tensor): ``(N,)`` label of every bank row (``-1``:
            not seen yet, which is a label no anchor has).
        sample_idx (Tensor): ``(B,)`` long row of each anchor.
        labels (Tensor): ``(B,)`` label of each anchor.
        num (int): Rows per anchor, at most ``N - 1``.
        generator (torch.Generator, optional): Source of randomness, on the
            rows' device. Defaults to the global generator.

    Returns:
        Tensor: ``(B, num)`` long rows, distinct within each anchor's row,
        in no particular order.
    """
    shape = (sample_idx.numel(), row_labels.numel())
    keys = torch.rand(
        shape, device=row_labels.device, generator=generator)
    keys.add_(row_labels[None, :] == labels.long()[:, None])
    keys.scatter_(1, sample_idx[:, None], 3.)
    return keys.topk(num, dim=1, largest=False, sorted=False).indices


@MODELS.register_module()
class CRDLoss(nn.Module):
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

    Details of this implementation:

    - Banks start uniform in ``[-a, a]`` with ``a = 1 / sqrt(feat_dim / 3)``
      (so each row has squared norm 1 in expectation), drawn from a fixed
      seed so that every process starts with the same banks.
    - Scores use the banks as they were before this call; afterwards, in
      training mode, the rows of the batch become
      ``normalize(momentum * old + (1 - momentum) * new)`` with the detached
      new embeddings. An image present twice in the (global) batch gets
      the embedding of its last occurrence. A row whose new value is not
      finite keeps its old one (decided on the device), so one bad batch
      cannot poison the banks for every later batch.
    - ``Z`` is estimated per direction at the first call as
      ``mean(exp(logits)) * N`` over the ``B x (K + 1)`` scores (positives
      included) and then kept. ``z_s`` (student anchors) and ``z_t``
      (teacher anchors) are buffers; a negative value means "not estimated
      yet".
    - ``neg_sampling='other_class'`` (the CRD authors' CIFAR recipe, used
      by every shipped CRD config): each anchor's ``K`` negatives are
      distinct rows, drawn uniformly without replacement among the rows
      whose label differs from the anchor's (:func:`draw_other_class`).
      It needs the batch's ``labels``. Labels are stored in the
      ``memory_labels`` buffer as images are seen (before sampling, so the
      current global batch counts), rather than read from the dataset up
      front: the loss needs no access to the dataset, and from the second
      epoch on every row's label is known. Rows not seen yet (label ``-1``,
      only during the first epoch) are eligible negatives, since they still
      hold the random initial vectors rather than the embedding of any
      image. ``'random'``: uniform over the ``N - 1`` rows other than the
      anchor's, with replacement (no labels needed).
    - Under ``torch.distributed`` the ``(sample_idx, s_emb, t_emb, labels)``
      of every rank are gathered before the update, so all ranks apply the
      same update and the banks stay identical; the ``Z`` estimate is
      averaged over all ranks' scores. Every rank must pass the same batch
      size (mmengine's default sampler pads the data so that they do). The
      banks are identical on all ranks, so DDP's buffer broadcast
      (``broadcast_buffers=True``) is unnecessary and can be turned off.
    - Banks, labels and ``Z`` are persistent buffers: they are saved in and
      resumed from checkpoints.
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

    #: Score every bank row with one matmul and pick the sampled scores when
    #: ``num_samples <= DENSE_SCORE_RATIO * (num_negatives + 1)``; otherwise
    #: gather the sampled rows and use a batched matmul. On a CPU the first
    #: is ~20x faster at N=50,000, K=16,384 and avoids a ``(B, K+1, D)``
    #: copy of the bank.
    DENSE_SCORE_RATIO = 16

    def __init__(self,
                 num_samples,
                 feat_dim=128,
                 num_negatives=16384,
                 temperature=0.07,
                 momentum=0.5,
                 neg_sampling='random',
                 loss_weight=1.0):
        super().__init__()
        for name, value in (('num_samples', num_samples),
                            ('feat_dim', feat_dim),
                            ('num_negatives', num_negatives)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f'CRDLoss: {name} must be a positive int, got {value!r}')
        if num_negatives >= num_samples:
            raise ValueError(
                f'CRDLoss: num_negatives ({num_negatives}) must be smaller '
                f'than num_samples ({num_samples})')
        if temperature <= 0:
            raise ValueError(
                f'CRDLoss: temperature must be positive, got {temperature}')
        if not 0 <= momentum <= 1:
            raise ValueError(
                f'CRDLoss: momentum must be in [0, 1], got {momentum}')
        if neg_sampling not in NEG_SAMPLINGS:
            raise ValueError(f'CRDLoss: neg_sampling must be one of '
                             f'{NEG_SAMPLINGS}, got {neg_sampling!r}')
        self.num_samples = num_samples
        self.feat_dim = feat_dim
        self.num_negatives = num_negatives
        self.temperature = temperature
        self.momentum = momentum
        self.neg_sampling = neg_sampling
        self.loss_weight = loss_weight
        self.score_all_rows = (
            num_samples <= self.DENSE_SCORE_RATIO * (num_negatives + 1))

        generator = torch.Generator().manual_seed(0)
        bound = 1. / math.sqrt(feat_dim / 3)
        for name in ('memory_s', 'memory_t'):
            bank = torch.rand(num_samples, feat_dim, generator=generator)
            self.register_buffer(name, bank.mul_(2 * bound).sub_(bound))
        self.register_buffer(
            'memory_labels',
            torch.full((num_samples, ), UNSEEN_LABEL, dtype=torch.long))
        self.register_buffer('z_s', torch.tensor(-1.))
        self.register_buffer('z_t', torch.tensor(-1.))
        # Whether z_s and z_t hold an estimate, known on the host so that a
        # step does not read them (a sync with a GPU); None: not known yet
        # (read once), also after loading a state dict.
        self._z_known = None
        self.register_load_state_dict_post_hook(_forget_z_known)
        # Reusable copies of the banks for the backward pass of the dense
        # scores (see ``_bank_logits``). Scratch space, not state: no
        # buffers.
        self._free_copies = {}

    def required_inputs(self):
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

    def extra_repr(self):
        return (f'num_samples={self.num_samples}, feat_dim={self.feat_dim}, '
                f'num_negatives={self.num_negatives}, '
                f'temperature={self.temperature}, momentum={self.momentum}, '
                f'neg_sampling={self.neg_sampling!r}, '
                f'loss_weight={self.loss_weight}')

    def forward(self, s_emb, t_emb, sample_idx, labels=None, neg_idx=None):
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
        self._check_inputs(s_emb, t_emb, sample_idx, labels)
        device = self.memory_s.device
        sample_idx = sample_idx.to(device)
        if labels is not None:
            labels = labels.to(device)

        if self.training:
            all_idx, all_labels, all_s, all_t = self._gather_batch(
                sample_idx, labels, s_emb, t_emb)
            rows, last = _last_occurrences(all_idx)
            if all_labels is not None:
                # Known before sampling, so that this batch's images are
                # excluded as other-class negatives.
                self.memory_labels.index_copy_(0, rows, all_labels[last])

        if neg_idx is None:
            neg_idx = self.sample_negatives(sample_idx, labels)
        else:
            neg_idx = self._check_neg_idx(neg_idx, sample_idx)
        cand_idx = torch.cat([sample_idx[:, None], neg_idx], dim=1)

        with torch.autocast(device_type=s_emb.device.type, enabled=False):
            logits_s = self._bank_logits(s_emb.float(), 'memory_t', cand_idx)
            logits_t = self._bank_logits(t_emb.float(), 'memory_s', cand_idx)
            if not self._z_estimated():
                self._estimate_z(logits_s.detach(), logits_t.detach())
            loss = (self._nce(logits_s, self.z_s) +
                    self._nce(logits_t, self.z_t))

        if self.training:
            self._update_banks(rows, all_s[last], all_t[last])
        return self.loss_weight * loss

    @torch.no_grad()
    def sample_negatives(self, sample_idx, labels=None, generator=None):
        """Draw ``num_negatives`` bank rows per anchor, never the anchor's
        own row.

        ``neg_sampling='random'``: uniform over the other ``N - 1`` rows,
        with replacement. ``'other_class'``: without replacement, among the
        rows whose stored label differs from the anchor's label (rows not
        seen yet are eligible), see :func:`draw_other_class`; the anchors'
        own labels count as stored.

        Args:
            sample_idx (Tensor): ``(B,)`` dataset indices of the anchors.
            labels (Tensor, optional): ``(B,)`` labels of the anchors;
                required for ``'other_class'``.
            generator (torch.Generator, optional): Source of randomness, on
                the banks' device. Defaults to the global generator.

        Returns:
            Tensor: ``(B, num_negatives)`` long indices into the banks.
        """
        device = self.memory_s.device
        sample_idx = sample_idx.to(device).long()
        num = self.num_samples
        shape = (sample_idx.numel(), self.num_negatives)
        if self.neg_sampling == 'random':
            # Uniform over [0, N) without the anchor: skip over it.
            draw = torch.randint(
                0, num - 1, shape, device=device, generator=generator)
            return draw + (draw >= sample_idx[:, None]).long()

        if labels is None:
            raise ValueError("CRDLoss with neg_sampling='other_class' needs "
                             'the labels of the batch')
        known = self.memory_labels.index_put(
            (sample_idx, ), labels.to(device).long())
        return draw_other_class(known, sample_idx, labels.to(device),
                                self.num_negatives, generator)

    def _z_estimated(self):
        """Whether ``Z`` has been estimated; reads the buffers (a sync with
        a GPU) only until it has."""
        if not self._z_known:
            self._z_known = bool((self.z_s > 0) & (self.z_t > 0))
        return self._z_known

    def _check_inputs(self, s_emb, t_emb, sample_idx, labels):
        if s_emb.dim() != 2 or s_emb.shape != t_emb.shape:
            raise ValueError(
                'CRDLoss expects student and teacher embeddings of the same '
                f'shape (B, feat_dim), got s_emb {tuple(s_emb.shape)} and '
                f't_emb {tuple(t_emb.shape)}')
        if s_emb.shape[1] != self.feat_dim:
            raise ValueError(
                f'CRDLoss: embeddings have {s_emb.shape[1]} channels (shape '
                f'{tuple(s_emb.shape)}) but feat_dim = {self.feat_dim}')
        batch = s_emb.shape[0]
        for name, value in (('sample_idx', sample_idx), ('labels', labels)):
            if value is None and name == 'labels':
                continue
            is_int_vector = (
                isinstance(value, torch.Tensor) and value.shape == (batch, )
                and not value.is_floating_point()
                and not value.is_complex() and value.dtype != torch.bool)
            if not is_int_vector:
                got = (tuple(value.shape) if isinstance(value, torch.Tensor)
                       else type(value).__name__)
                raise ValueError(
                    f'CRDLoss: {name} must be an integer tensor of shape '
                    f'({batch},) matching s_emb {tuple(s_emb.shape)}, got '
                    f'{got}')
        if self.neg_sampling == 'other_class' and labels is None:
            raise ValueError("CRDLoss with neg_sampling='other_class' needs "
                             'the labels of the batch')
        if not should_check_values(self, 'inputs'):
            # Reading values syncs with a GPU: first call, or debug checks.
            return
        out_of_range = (sample_idx < 0) | (sample_idx >= self.num_samples)
        if out_of_range.any():
            value = sample_idx[out_of_range][0].item()
            raise ValueError(
                f'CRDLoss: sample_idx {value} is outside [0, num_samples) '
                f'with num_samples = {self.num_samples}; num_samples must be '
                'the size of the training set')
        if labels is not None and (labels < 0).any():
            value = labels[labels < 0][0].item()
            raise ValueError(
                f'CRDLoss: labels must be non-negative, got {value}')

    def _check_neg_idx(self, neg_idx, sample_idx):
        expected = (sample_idx.numel(), self.num_negatives)
        if neg_idx.shape != expected or neg_idx.is_floating_point():
            raise ValueError(
                f'CRDLoss: neg_idx must be an integer tensor of shape '
                f'{expected}, got {tuple(neg_idx.shape)}')
        neg_idx = neg_idx.to(sample_idx.device).long()
        if not should_check_values(self, 'neg_idx'):
            return neg_idx
        if ((neg_idx < 0) | (neg_idx >= self.num_samples)).any():
            raise ValueError('CRDLoss: neg_idx must lie in [0, num_samples) '
                             f'with num_samples = {self.num_samples}')
        if (neg_idx == sample_idx[:, None]).any():
            raise ValueError(
                "CRDLoss: neg_idx contains an anchor's own sample_idx")
        return neg_idx

    def _gather_batch(self, sample_idx, labels, s_emb, t_emb):
        """Indices, labels (or None) and detached fp32 embeddings of the
        whole global batch, in rank order."""
        ids = sample_idx.long()[:, None]
        if labels is not None:
            ids = torch.cat([ids, labels.long()[:, None]], dim=1)
        ids = all_gather_cat(ids)
        embs = all_gather_cat(
            torch.cat([s_emb.detach().float(),
                       t_emb.detach().float()], dim=1))
        all_labels = ids[:, 1] if labels is not None else None
        return (ids[:, 0], all_labels, embs[:, :self.feat_dim],
                embs[:, self.feat_dim:])

    def _bank_logits(self, anchors, bank_name, cand_idx):
        """``(B, K+1)`` fp32 logits ``anchors[b] . bank[cand_idx[b, k]] /
        temperature``."""
        bank = getattr(self, bank_name).float()
        if not self.score_all_rows:
            rows = bank[cand_idx]  # (B, K+1, D), a copy
            scores = torch.bmm(rows, anchors[:, :, None])[:, :, 0]
            return scores / self.temperature
        if not (torch.is_grad_enabled() and anchors.requires_grad):
            return torch.gather(anchors @ bank.t(), 1, cand_idx) / (
                self.temperature)
        # The matmul keeps its right operand for the backward pass, and the
        # bank is updated in place before that: score a copy instead.
        copy = self._free_copies.pop(bank_name, None)
        if copy is None or copy.shape != bank.shape or (
                copy.device != bank.device):
            copy = torch.empty_like(bank)
        copy.copy_(bank)
        all_scores = anchors @ copy.t()
        # Once the matmul's backward has run the copy may be reused. A copy
        # still held by a graph (a second call before the first backward) is
        # never overwritten: the next call then allocates a new one.
        all_scores.grad_fn.register_hook(
            lambda *_: self._free_copies.__setitem__(bank_name, copy))
        return torch.gather(all_scores, 1, cand_idx) / self.temperature

    @torch.no_grad()
    def _estimate_z(self, logits_s, logits_t):
        """Set ``Z = mean(exp(logits)) * N`` per direction, the mean taken
        over the scores of every rank."""
        stats = torch.stack([
            logits_s.double().exp().sum(),
            logits_t.double().exp().sum(),
            torch.tensor(logits_s.numel(), dtype=torch.float64,
                         device=logits_s.device),
        ])
        if get_rank_and_world_size()[1] > 1:
            dist.all_reduce(stats)
        estimate = stats[:2] / stats[2] * self.num_samples
        # A batch of non-finite scores leaves Z unestimated (the next batch
        # estimates it) rather than poisoning every later step.
        usable = torch.isfinite(estimate) & (estimate > 0)
        self.z_s.copy_(torch.where(usable[0], estimate[0], self.z_s))
        self.z_t.copy_(torch.where(usable[1], estimate[1], self.z_t))
        # Read once, at the first step (a sync with a GPU); a batch that
        # gave no usable estimate makes the next one estimate again.
        self._z_known = bool(usable.all())

    def _nce(self, logits, z):
        """NCE loss of one direction, averaged over the anchors.

        ``-log(P0 / (P0 + c)) = softplus(log c - log P0)`` and
        ``-log(c / (Pj + c)) = softplus(log Pj - log c)``.
        """
        log_p = logits - torch.log(z.float())
        log_c = math.log(self.num_negatives / self.num_samples)
        pos = _softplus(log_c - log_p[:, 0])
        neg = _softplus(log_p[:, 1:] - log_c).sum(dim=1)
        return (pos + neg).mean()

    @torch.no_grad()
    def _update_banks(self, rows, new_s, new_t):
        """Rows ``rows`` of each bank become
        ``normalize(m * old + (1 - m) * new)``; a row whose new value is not
        finite keeps its old value (decided on the device, without a sync),
        so that one bad batch cannot poison every later one. ``rows`` may
        repeat a row with identical values."""
        for bank, new in ((self.memory_s, new_s), (self.memory_t, new_t)):
            old = bank.index_select(0, rows)
            mixed = self.momentum * old + (1 - self.momentum) * new.to(old)
            mixed = F.normalize(mixed, dim=1)
            finite = torch.isfinite(mixed).all(dim=1, keepdim=True)
            bank.index_copy_(0, rows, torch.where(finite, mixed, old))
