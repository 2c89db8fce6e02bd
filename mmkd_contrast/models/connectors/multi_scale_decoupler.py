"""Decoupling of a feature map into L2-normalised local features at several
scales (the sample generator of MSDCRD)."""
import torch.nn as nn
import torch.nn.functional as F

from mmkd_contrast.registry import MODELS


def check_scales(scales, owner):
    """Validate a set of decoupling scales and return it as a tuple.

    Args:
        scales (Sequence[int]): Grid sizes ``k``; each must be a positive
            integer and appear once.
        owner (str): Name of the calling class, used in the error message.

    Returns:
        tuple[int]: The scales, in the given order.
    """
    try:
        scales = tuple(scales)
    except TypeError:
        raise TypeError(f'{owner}: scales must be a sequence of positive '
                        f'integers, got {scales!r}') from None
    if not scales:
        raise ValueError(f'{owner}: scales must not be empty')
    for k in scales:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f'{owner}: every scale must be a positive '
                             f'integer, got {k!r} in scales={scales}')
    if len(set(scales)) != len(scales):
        raise ValueError(
            f'{owner}: scales must not repeat, got scales={scales}')
    return scales


@MODELS.register_module()
class MultiScaleDecoupler(nn.Module):
    """Split a feature map into local features on ``k x k`` grids.

    `Contrastive Representation Distillation via Multi-Scale Feature
    Decoupling <https://arxiv.org/abs/2502.05835>`_.

    For each scale ``k`` the map is adaptively average-pooled to ``k x k``;
    each of the ``k**2`` cells is one local feature (regions in row-major
    order), L2-normalised along the channels (eps 1e-12). Scale 1 is the
    global average-pooled feature. The module has no parameters.

    Args:
        scales (Sequence[int]): Grid sizes, distinct positive integers.
            Defaults to ``(1, 2, 4)``.

    Example:
        >>> decoupler = MultiScaleDecoupler(scales=(1, 2))
        >>> [f.shape for f in decoupler(torch.randn(8, 64, 7, 7))]
        [torch.Size([8, 1, 64]), torch.Size([8, 4, 64])]
    """

    def __init__(self, scales=(1, 2, 4)):
        super().__init__()
        self.scales = check_scales(scales, type(self).__name__)

    def forward(self, x):
        """Decouple a feature map.

        Args:
            x (Tensor): Feature map ``(B, C, H, W)``; every scale must satisfy
                ``k <= H`` and ``k <= W``.

        Returns:
            list[Tensor]: One ``(B, k**2, C)`` tensor per scale, in the order
            of ``scales``; region ``m`` is row ``m // k``, column ``m % k``
            of the grid.
        """
        if x.dim() != 4:
            raise ValueError(
                f'{type(self).__name__} expects a feature map (B, C, H, W), '
                f'got shape {tuple(x.shape)}')
        height, width = x.shape[-2:]
        for k in self.scales:
            if k > height or k > width:
                raise ValueError(
                    f'{type(self).__name__}: scale {k} is larger than the '
                    f'feature map of size {height}x{width}; every scale must '
                    'be at most the map height and width')
        features = []
        for k in self.scales:
            pooled = F.adaptive_avg_pool2d(x, k)  # (B, C, k, k)
            local = pooled.flatten(2).transpose(1, 2)  # (B, k*k, C)
            features.append(F.normalize(local, dim=-1, eps=1e-12))
        return features
