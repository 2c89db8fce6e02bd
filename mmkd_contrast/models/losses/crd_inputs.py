"""The input checks of :class:`CRDLoss`: shapes and dtypes at every call,
index ranges at the first one (reading values syncs with a GPU)."""
import torch

from mmkd_contrast.utils import should_check_values

__all__ = ['check_inputs', 'check_neg_idx']


def check_inputs(loss, s_emb, t_emb, sample_idx, labels):
    """Check the inputs of :meth:`CRDLoss.forward` (shapes always; values at
    the first call, or at every call with the debug checks on).

    Raises:
        ValueError: Names the input, its shape or value and the expected
            one.
    """
    if s_emb.dim() != 2 or s_emb.shape != t_emb.shape:
        raise ValueError(
            'CRDLoss expects student and teacher embeddings of the same '
            f'shape (B, feat_dim), got s_emb {tuple(s_emb.shape)} and '
            f't_emb {tuple(t_emb.shape)}')
    if s_emb.shape[1] != loss.feat_dim:
        raise ValueError(
            f'CRDLoss: embeddings have {s_emb.shape[1]} channels (shape '
            f'{tuple(s_emb.shape)}) but feat_dim = {loss.feat_dim}')
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
    if loss.neg_sampling == 'other_class' and labels is None:
        raise ValueError("CRDLoss with neg_sampling='other_class' needs "
                         'the labels of the batch')
    if not should_check_values(loss, 'inputs'):
        # Reading values syncs with a GPU: first call, or debug checks.
        return
    out_of_range = (sample_idx < 0) | (sample_idx >= loss.num_samples)
    if out_of_range.any():
        value = sample_idx[out_of_range][0].item()
        raise ValueError(
            f'CRDLoss: sample_idx {value} is outside [0, num_samples) '
            f'with num_samples = {loss.num_samples}; num_samples must be '
            'the size of the training set')
    if labels is not None and (labels < 0).any():
        value = labels[labels < 0][0].item()
        raise ValueError(
            f'CRDLoss: labels must be non-negative, got {value}')


def check_neg_idx(loss, neg_idx, sample_idx):
    """Check explicit negatives ``neg_idx`` and return them as long
    indices on ``sample_idx``'s device.

    Raises:
        ValueError: A wrong shape or dtype, an index out of range, or an
            anchor's own index.
    """
    expected = (sample_idx.numel(), loss.num_negatives)
    if neg_idx.shape != expected or neg_idx.is_floating_point():
        raise ValueError(
            f'CRDLoss: neg_idx must be an integer tensor of shape '
            f'{expected}, got {tuple(neg_idx.shape)}')
    neg_idx = neg_idx.to(sample_idx.device).long()
    if not should_check_values(loss, 'neg_idx'):
        return neg_idx
    if ((neg_idx < 0) | (neg_idx >= loss.num_samples)).any():
        raise ValueError('CRDLoss: neg_idx must lie in [0, num_samples) '
                         f'with num_samples = {loss.num_samples}')
    if (neg_idx == sample_idx[:, None]).any():
        raise ValueError(
            "CRDLoss: neg_idx contains an anchor's own sample_idx")
    return neg_idx
