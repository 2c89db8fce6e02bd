"""PCKD's four rotated views of one image."""
from typing import Callable, Sequence, Union

# mmpretrain's transforms (RandomCrop, ...) must be registered for an
# unscoped ``view_pipeline`` type to resolve through the parent registry.
import mmpretrain.datasets  # noqa: F401
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmkd_contrast.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RotationViews(BaseTransform):
    """Make the 0°, 90°, 180° and 270° views of an image, as PCKD trains on.

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    The image is flipped horizontally once (with probability
    ``flip_prob``), then rotated counter-clockwise by ``k * 90°`` for
    ``k = 0, 1, 2, 3`` (``np.rot90``), then each view goes through
    ``view_pipeline`` independently (e.g. its own random crop). The views
    are stored in ``results['img']`` as one channel-first array
    ``(4, C, H, W)``, so that mmpretrain's ``PackInputs`` (which converts
    arrays of more than 3 dimensions without permuting) gives inputs of
    shape ``(4, C, H, W)`` per sample; :class:`MultiViewClsDataPreprocessor`
    then turns a batch of them into ``(4B, C, H, W)``.

    Because of that layout, RotationViews must be the last transform before
    ``PackInputs``; per-view transforms belong in ``view_pipeline``.

    **Required Keys:** ``img`` ``(H, W)`` or ``(H, W, C)``.

    **Modified Keys:** ``img`` (now ``(4, C, H, W)``), ``img_shape`` (the
    ``(H, W)`` of one view).

    **Added Keys:** ``flip``, ``flip_direction`` (``'horizontal'`` or None),
    ``num_views`` (4).

    Args:
        view_pipeline (Sequence[dict | callable]): Transforms applied to each
            view separately, as configs or built transforms. Every view must
            come out with the same shape (for non-square images, crop to a
            fixed size). Defaults to ``()``.
        flip_prob (float): Probability of the horizontal flip applied before
            the rotations. Defaults to 0.5.
    """

    #: Number of views: rotations by 0°, 90°, 180°, 270° counter-clockwise.
    NUM_VIEWS = 4

    def __init__(self,
                 view_pipeline: Sequence[Union[dict, Callable]] = (),
                 flip_prob: float = 0.5) -> None:
        if not 0 <= flip_prob <= 1:
            raise ValueError('RotationViews: flip_prob must be in [0, 1], got '
                             f'{flip_prob}')
        self.flip_prob = flip_prob
        self.view_pipeline = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in view_pipeline
        ]
        for t in self.view_pipeline:
            if not callable(t):
                raise TypeError('RotationViews: view_pipeline items must be '
                                f'configs or callables, got {type(t)}')

    @cache_randomness
    def _draw_flip(self):
        return bool(np.random.rand() < self.flip_prob)

    def _apply_view_pipeline(self, results, view, k):
        view_results = dict(results, img=view, img_shape=view.shape[:2])
        for t in self.view_pipeline:
            view_results = t(view_results)
            if view_results is None:
                raise RuntimeError(
                    f'RotationViews: view_pipeline transform {t!r} returned '
                    f'None on the {90 * k}° view')
        return view_results['img']

    def transform(self, results):
        """Replace ``results['img']`` by its four rotated views.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The same dict, with the keys described above.
        """
        img = results['img']
        if img.ndim not in (2, 3):
            raise ValueError('RotationViews expects img of shape (H, W) or '
                             f'(H, W, C), got {img.shape}')
        flip = self._draw_flip()
        if flip:
            img = np.flip(img, axis=1)
        views = []
        for k in range(self.NUM_VIEWS):
            view = np.ascontiguousarray(np.rot90(img, k))
            view = self._apply_view_pipeline(results, view, k)
            views.append(view if view.ndim == 3 else view[..., None])
        shapes = [v.shape for v in views]
        if len(set(shapes)) != 1:
            raise ValueError(
                'RotationViews: the views must have one shape after '
                f'view_pipeline, got {shapes} for 0°, 90°, 180°, 270° (crop '
                'non-square images to a fixed size)')
        results['img'] = np.ascontiguousarray(
            np.stack(views).transpose(0, 3, 1, 2))
        results['img_shape'] = shapes[0][:2]
        results['flip'] = flip
        results['flip_direction'] = 'horizontal' if flip else None
        results['num_views'] = self.NUM_VIEWS
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(view_pipeline='
                f'{self.view_pipeline}, flip_prob={self.flip_prob})')
