"""CRD's memory banks: a student and a teacher embedding per training image,
refreshed with momentum, from which negatives are drawn and scored."""
import math
from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import all_gather_cat
from .duplicates import last_occurrences
from .negative_sampling import NEG_SAMPLINGS, draw_other_class, draw_random
from .recycled_copies import RecycledCopies

# Label stored for a row whose image has not been seen yet.
UNSEEN_LABEL = -1

#: A batch as :meth:`CRDMemoryBank.gather` returns it: the images of every
#: rank, in rank order, with detached fp32 embeddings (``labels`` is None
#: when none were given).
GatheredBatch = namedtuple('GatheredBatch',
                           ['sample_idx', 's_emb', 't_emb', 'labels'])


@MODELS.register_module()
class CRDMemoryBank(nn.Module):
    """Two memory banks of embeddings, one row per training image, as used
    by `Contrastive Representation Distillation
    <https://arxiv.org/abs/1910.10699>`_ (Tian, Krishnan, Isola, ICLR 2020).

    ``memory_s`` holds a student embedding and ``memory_t`` a teacher
    embedding of every image, ``memory_labels`` its label once seen (``-1``
    before). The bank knows nothing of the loss; one step of
    :class:`CRDLoss` uses it in this order:

    1. :meth:`gather` the batch of every process (under
       ``torch.distributed``), so that all processes apply the same
       changes and their banks stay identical;
    2. :meth:`store_labels` of the gathered batch (before sampling, so that
       classmates in the batch are not drawn as other-class negatives);
    3. :meth:`sample_negatives`;
    4. :meth:`scores` of the anchors against the candidate rows;
    5. :meth:`update` the batch's rows with the gathered embeddings.

    Details:

    - Banks start uniform in ``[-a, a]`` with ``a = 1 / sqrt(feat_dim / 3)``
      (each row has squared norm 1 in expectation), drawn from a generator
      of its own with a fixed seed: every process starts with the same
      banks, and the global random state is left alone.
    - :meth:`update` sets a row to ``normalize(m * old + (1 - m) * new)``;
      an image present twice in the batch gets the embedding of its last
      occurrence, and a row whose new value is not finite keeps its old one
      (decided on the device), so one bad batch cannot poison the banks.
    - ``neg_sampling='random'`` draws uniformly over the ``N - 1`` rows
      other than the anchor's, with replacement (:func:`draw_random`);
      ``'other_class'`` draws distinct rows whose stored label differs from
      the anchor's (:func:`draw_other_class`). Labels are stored as images
      are seen, so the bank needs no access to the dataset; rows not seen
      yet (only during the first epoch) are eligible, since they still hold
      random vectors rather than any image's embedding.
    - :meth:`scores` either scores every row with one matmul and picks the
      candidates (when ``N <= DENSE_SCORE_RATIO * candidates``), or gathers
      the candidate rows and uses a batched matmul. The first keeps the
      bank for its backward pass, and the bank is updated in place before
      that: it scores a copy, reused from step to step
      (:class:`RecycledCopies`).
    - All three banks are persistent buffers (saved in checkpoints). Nothing
      here reads a tensor's value on the host.

    Args:
        num_samples (int): ``N``, the number of rows (training images).
        feat_dim (int): Embedding size. Defaults to 128.
        momentum (float): ``m`` in ``[0, 1]``, the weight of a row's old
            value in :meth:`update`. Defaults to 0.5.
        neg_sampling (str): ``'random'`` or ``'other_class'`` (needs the
            anchors' labels). Defaults to ``'random'``.

    Example:
        >>> bank = CRDMemoryBank(num_samples=10, feat_dim=4)
        >>> idx = torch.tensor([2, 7])
        >>> bank.sample_negatives(idx, 3).shape
        torch.Size([2, 3])
        >>> emb = F.normalize(torch.randn(2, 4), dim=1)
        >>> cand = torch.tensor([[2, 0, 1], [7, 3, 4]])
        >>> bank.scores(emb, cand, 't').shape
        torch.Size([2, 3])
        >>> bank.update(idx, emb, emb)
    """

    #: Score every row with one matmul and pick the candidates' scores when
    #: ``num_samples <= DENSE_SCORE_RATIO * candidates per anchor``;
    #: otherwise gather the candidate rows and use a batched matmul. On a
    #: CPU the first is ~20x faster at N=50,000, 16,385 candidates, and
    #: avoids a ``(B, candidates, D)`` copy of the bank.
    DENSE_SCORE_RATIO = 16

    def __init__(self,
                 num_samples: int,
                 feat_dim: int = 128,
                 momentum: float = 0.5,
                 neg_sampling: str = 'random') -> None:
        super().__init__()
        for name, value in (('num_samples', num_samples),
                            ('feat_dim', feat_dim)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'CRDMemoryBank: {name} must be a positive '
                                 f'int, got {value!r}')
        if not 0 <= momentum <= 1:
            raise ValueError(
                f'CRDMemoryBank: momentum must be in [0, 1], got {momentum}')
        if neg_sampling not in NEG_SAMPLINGS:
            raise ValueError(f'CRDMemoryBank: neg_sampling must be one of '
                             f'{NEG_SAMPLINGS}, got {neg_sampling!r}')
        self.num_samples = num_samples
        self.feat_dim = feat_dim
        self.momentum = momentum
        self.neg_sampling = neg_sampling
        #: None: choose the scoring path by ``DENSE_SCORE_RATIO``; True or
        #: False: always score every row, or only the candidates.
        self.score_all_rows = None

        generator = torch.Generator().manual_seed(0)
        bound = 1. / math.sqrt(feat_dim / 3)
        for name in ('memory_s', 'memory_t'):
            bank = torch.rand(num_samples, feat_dim, generator=generator)
            self.register_buffer(name, bank.mul_(2 * bound).sub_(bound))
        self.register_buffer(
            'memory_labels',
            torch.full((num_samples, ), UNSEEN_LABEL, dtype=torch.long))
        self._copies = RecycledCopies()

    @property
    def device(self):
        """torch.device: Where the banks are."""
        return self.memory_s.device

    def extra_repr(self):
        return (f'num_samples={self.num_samples}, feat_dim={self.feat_dim}, '
                f'momentum={self.momentum}, '
                f'neg_sampling={self.neg_sampling!r}')

    def gather(self, sample_idx, s_emb, t_emb, labels=None):
        """The batch of every process, in rank order; the local batch
        itself without a process group.

        Every process must pass the same batch size. Two collectives: one
        for the indices and labels, one for both embeddings.

        Args:
            sample_idx (Tensor): ``(B,)`` integer rows of the images.
            s_emb (Tensor): ``(B, feat_dim)`` student embeddings.
            t_emb (Tensor): ``(B, feat_dim)`` teacher embeddings.
            labels (Tensor, optional): ``(B,)`` integer labels.

        Returns:
            GatheredBatch: ``sample_idx`` and ``labels`` as long tensors,
            the embeddings detached and in fp32.
        """
        ids = sample_idx.long()[:, None]
        if labels is not None:
            ids = torch.cat([ids, labels.long()[:, None]], dim=1)
        ids = all_gather_cat(ids)
        embs = all_gather_cat(
            torch.cat([s_emb.detach().float(),
                       t_emb.detach().float()], dim=1))
        return GatheredBatch(ids[:, 0], embs[:, :self.feat_dim],
                             embs[:, self.feat_dim:],
                             ids[:, 1] if labels is not None else None)

    @torch.no_grad()
    def store_labels(self, sample_idx, labels):
        """Remember the labels of rows ``sample_idx`` (the last occurrence
        of a repeated row wins).

        Args:
            sample_idx (Tensor): ``(B,)`` long rows, on the banks' device.
            labels (Tensor): ``(B,)`` long labels.
        """
        rows, last = last_occurrences(sample_idx)
        self.memory_labels.index_copy_(0, rows, labels[last])

    @torch.no_grad()
    def sample_negatives(self, sample_idx, num, labels=None, generator=None):
        """Draw ``num`` rows per anchor, never the anchor's own row.

        ``'random'``: uniform over the other ``N - 1`` rows, with
        replacement. ``'other_class'``: without replacement, among the rows
        whose stored label differs from the anchor's (rows not seen yet are
        eligible); the anchors' own labels count as stored.

        Args:
            sample_idx (Tensor): ``(B,)`` rows of the anchors.
            num (int): Rows per anchor, at most ``N - 1``.
            labels (Tensor, optional): ``(B,)`` labels of the anchors;
                required for ``'other_class'``.
            generator (torch.Generator, optional): Source of randomness, on
                the banks' device. Defaults to the global generator.

        Returns:
            Tensor: ``(B, num)`` long rows.
        """
        if not isinstance(num, int) or not 0 < num < self.num_samples:
            raise ValueError(
                f'CRDMemoryBank: num must be an int in [1, num_samples) '
                f'with num_samples = {self.num_samples}, got {num!r}')
        device = self.device
        sample_idx = sample_idx.to(device).long()
        if self.neg_sampling == 'random':
            return draw_random(sample_idx, self.num_samples, num, generator)
        if labels is None:
            raise ValueError("CRDMemoryBank with neg_sampling='other_class' "
                             "needs the anchors' labels")
        labels = labels.to(device)
        known = self.memory_labels.index_put((sample_idx, ), labels.long())
        return draw_other_class(known, sample_idx, labels, num, generator)

    def scores(self, anchors, cand_idx, bank):
        """Dot products of each anchor with its candidate rows, in fp32.

        Uses the bank as it is now; later in-place updates (:meth:`update`
        before the backward pass) do not change the result or its gradient.

        Args:
            anchors (Tensor): ``(B, feat_dim)`` fp32 embeddings; the result
                is differentiable with respect to them.
            cand_idx (Tensor): ``(B, C)`` long rows to score per anchor.
            bank (str): ``'s'`` (``memory_s``) or ``'t'`` (``memory_t``).

        Returns:
            Tensor: ``(B, C)``, ``anchors[b] . memory[cand_idx[b, c]]``.
        """
        if bank not in ('s', 't'):
            raise ValueError(
                f"CRDMemoryBank: bank must be 's' or 't', got {bank!r}")
        name = f'memory_{bank}'
        memory = getattr(self, name).float()
        score_all_rows = self.score_all_rows
        if score_all_rows is None:
            score_all_rows = (self.num_samples <=
                              self.DENSE_SCORE_RATIO * cand_idx.shape[1])
        if not score_all_rows:
            rows = memory[cand_idx]  # (B, C, D), a copy
            return torch.bmm(rows, anchors[:, :, None])[:, :, 0]
        if not (torch.is_grad_enabled() and anchors.requires_grad):
            return torch.gather(anchors @ memory.t(), 1, cand_idx)
        # The matmul keeps its right operand for the backward pass, and the
        # bank is updated in place before that: score a copy instead.
        return self._score_copy(anchors, cand_idx, name, memory)

    @torch.compiler.disable
    def _score_copy(self, anchors, cand_idx, name, memory):
        """Score a copy of the bank, eagerly even inside a compiled step.

        Compiled, inductor may recompute a copy in the backward pass from
        the bank itself, after the in-place update: measured gradients 60-
        77 % off eager's. So this runs outside the graph (one graph break)
        and autograd keeps the copy."""
        copy = self._copies.copy_of(name, memory)
        all_scores = self._copies.release_after_backward(
            name, copy, anchors @ copy.t())
        return torch.gather(all_scores, 1, cand_idx)

    @torch.no_grad()
    def update(self, sample_idx, s_emb, t_emb):
        """Rows ``sample_idx`` of each bank become
        ``normalize(m * old + (1 - m) * new)``.

        A repeated row takes the embeddings of its last occurrence. A row
        whose new value is not finite keeps its old value (decided on the
        device, without a sync).

        Args:
            sample_idx (Tensor): ``(B,)`` long rows, on the banks' device.
            s_emb (Tensor): ``(B, feat_dim)`` new student embeddings.
            t_emb (Tensor): ``(B, feat_dim)`` new teacher embeddings.
        """
        rows, last = last_occurrences(sample_idx)
        for memory, new in ((self.memory_s, s_emb[last]),
                            (self.memory_t, t_emb[last])):
            old = memory.index_select(0, rows)
            mixed = self.momentum * old + (1 - self.momentum) * new.to(old)
            mixed = F.normalize(mixed, dim=1)
            finite = torch.isfinite(mixed).all(dim=1, keepdim=True)
            memory.index_copy_(0, rows, torch.where(finite, mixed, old))
