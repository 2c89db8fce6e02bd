"""InfoNCE with in-batch negatives, shared by the contrastive losses."""
import torch
import torch.nn.functional as F
from mmengine.dist import get_dist_info

from mmkd_contrast.utils import all_gather_cat


def info_nce(query, keys, temperature, pos_offset=0, reduction='mean'):
    """Cross-entropy of each query against all keys, the positive of query
    ``i`` being key ``pos_offset + i``.

    Logits are computed in fp32 whatever the input dtype.

    Args:
        query (Tensor): ``(..., B, D)`` anchors.
        keys (Tensor): ``(..., M, D)`` candidates, ``M >= pos_offset + B``.
            Leading dimensions broadcast with ``query``'s.
        temperature (float): Softmax temperature.
        pos_offset (int): Index of the first positive among ``keys``.
        reduction (str): ``'mean'`` (default) or ``'none'``.

    Returns:
        Tensor: The mean loss over all queries (and leading dimensions), or
        with ``reduction='none'`` the loss of each query, of shape
        ``query.shape[:-1]`` (broadcast with the keys' leading dimensions).
    """
    if reduction not in ('mean', 'none'):
        raise ValueError(f"info_nce: reduction must be 'mean' or 'none', "
                         f'got {reduction!r}')
    # Under AMP autocast would run the matmul in half precision anyway.
    with torch.autocast(device_type=query.device.type, enabled=False):
        logits = torch.matmul(query.float(),
                              keys.float().transpose(-2, -1))
    logits = logits / temperature
    batch = query.shape[-2]
    target = torch.arange(pos_offset, pos_offset + batch, device=query.device)
    target = target.expand(logits.shape[:-1])
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        target.reshape(-1),
        reduction=reduction)
    return loss.view(logits.shape[:-1]) if reduction == 'none' else loss


def batch_info_nce(s,
                   t,
                   temperature,
                   symmetric=False,
                   batch_dim=-2,
                   detach_teacher=True,
                   reduction='mean'):
    """InfoNCE between student and teacher features of the same images, the
    other images of the (global) batch being the negatives.

    The student is the anchor and the teacher keys are gathered from every
    rank without gradient. With ``symmetric=True`` the teacher-anchored
    direction is added (student keys gathered with their gradient) and the
    two are averaged. With one process this is the single-batch formula.

    With ``detach_teacher=False`` (for a teacher side that is the output of
    a trained head, as in LFCC) ``t`` keeps its gradient and the teacher
    keys are gathered with it, so that, as for the student, gradients
    averaged over ranks equal those of the loss on the concatenated batch.

    Args:
        s (Tensor): ``(..., B, D)`` student features, already normalised if
            the method wants cosine scores.
        t (Tensor): Teacher features of the same shape; detached here
            unless ``detach_teacher=False``.
        temperature (float): Softmax temperature.
        symmetric (bool): Average with the teacher-anchored direction.
        batch_dim (int): The image dimension of ``s`` and ``t``.
        detach_teacher (bool): Detach ``t``. Defaults to True.
        reduction (str): ``'mean'`` (default) or ``'none'``.

    Returns:
        Tensor: Scalar loss, or with ``reduction='none'`` the loss of each
        local image, of the shape of ``s`` without ``D`` and with the image
        axis moved last: ``(..., B)`` (with ``symmetric=True``, per image the
        mean of its two directions).
    """
    s = s.movedim(batch_dim, 0)
    if detach_teacher:
        t = t.detach()
    t = t.movedim(batch_dim, 0)
    rank, world_size = get_dist_info()
    if s.shape[0] * world_size < 2:
        raise ValueError(
            'Contrast within the batch needs at least 2 images in the global '
            f'batch to have negatives, got {s.shape[0]} image(s) on '
            f'{world_size} process(es).')
    offset = rank * s.shape[0]
    # Move the image axis to -2 for the matmul: (..., B, D).
    t_all = all_gather_cat(t, with_grad=not detach_teacher).movedim(0, -2)
    loss = info_nce(s.movedim(0, -2), t_all, temperature, offset, reduction)
    if symmetric:
        s_all = all_gather_cat(s, with_grad=True).movedim(0, -2)
        loss = 0.5 * (loss + info_nce(t.movedim(0, -2), s_all, temperature,
                                      offset, reduction))
    return loss
