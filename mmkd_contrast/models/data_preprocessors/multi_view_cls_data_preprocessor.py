"""Batch several views per image into one view-major classification batch."""
import torch
from mmpretrain.models.utils import ClsDataPreprocessor

from mmkd_contrast.registry import MODELS


@MODELS.register_module()
class MultiViewClsDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` for samples that carry several views.

    Used with :class:`~mmkd_contrast.datasets.transforms.RotationViews`
    (PCKD, `arXiv 2410.14143 <https://arxiv.org/abs/2410.14143>`_), whose
    samples have inputs ``(V, C, H, W)``. A batch of ``B`` such samples
    (stacked by ``default_collate`` to ``(B, V, C, H, W)`` or listed by
    ``pseudo_collate``) becomes inputs ``(V*B, C, H, W)`` in view-major
    order: rows ``v*B .. v*B + B - 1`` are view ``v`` of images ``0..B-1``
    (for RotationViews, rows ``0..B-1`` are the unrotated images). The data
    samples are repeated in the same order (shallow copies, so labels repeat
    over the views) and each copy gets the metainfo ``num_views=V`` and
    ``view_index=v``. Normalisation, BGR-to-RGB and padding are the
    parent's.

    Multi-view batches are recognised by their shape: a 5-D tensor, or a
    list of 4-D tensors. Any other batch (single-view validation and test
    with the standard pipeline) is passed to ``ClsDataPreprocessor``
    unchanged, so the result is exactly the parent's.

    Batch augmentations (Mixup, CutMix) would mix images across views; they
    raise an error on a multi-view training batch.

    Args: see :class:`mmpretrain.models.ClsDataPreprocessor`.
    """

    @staticmethod
    def _num_views(inputs):
        """Return V for a multi-view batch, None for a single-view one."""
        if isinstance(inputs, torch.Tensor):
            return inputs.shape[1] if inputs.dim() == 5 else None
        dims = {item.dim() for item in inputs}
        if dims == {4}:
            views = {item.shape[0] for item in inputs}
            if len(views) != 1:
                raise ValueError('MultiViewClsDataPreprocessor: every sample '
                                 'must have the same number of views, got '
                                 f'{sorted(views)}')
            return views.pop()
        if 4 in dims:
            raise ValueError('MultiViewClsDataPreprocessor: a batch mixes '
                             'multi-view (V, C, H, W) and single-view inputs, '
                             f'got sample dims {sorted(dims)}')
        return None

    def forward(self, data: dict, training: bool = False) -> dict:
        """Flatten the views view-major, then preprocess like the parent.

        Args:
            data (dict): Data from the dataloader, with ``inputs`` and
                optionally ``data_samples``.
            training (bool): Whether to enable training-time augmentation.

        Returns:
            dict: ``inputs`` ``(V*B, C, H, W)`` and ``data_samples`` of
            length ``V*B`` for a multi-view batch; the parent's output
            otherwise.
        """
        inputs = data['inputs']
        num_views = self._num_views(inputs)
        if num_views is None:
            return super().forward(data, training)
        if training and self.batch_augments is not None:
            raise ValueError(
                'MultiViewClsDataPreprocessor: batch_augments would mix '
                'images across the views of a multi-view batch; remove them')

        if isinstance(inputs, torch.Tensor):
            num_images = inputs.shape[0]
            flat_inputs = inputs.transpose(0, 1).reshape(
                num_views * num_images, *inputs.shape[2:])
        else:
            num_images = len(inputs)
            flat_inputs = [
                item[view] for view in range(num_views) for item in inputs
            ]

        data = dict(data, inputs=flat_inputs)
        data_samples = data.get('data_samples', None)
        if data_samples is not None:
            if len(data_samples) != num_images:
                raise ValueError(
                    f'MultiViewClsDataPreprocessor: {num_images} inputs but '
                    f'{len(data_samples)} data samples')
            repeated = []
            for view in range(num_views):
                for sample in data_samples:
                    copy = sample.clone()
                    copy.set_metainfo(
                        dict(num_views=num_views, view_index=view))
                    repeated.append(copy)
            data['data_samples'] = repeated
        return super().forward(data, training)
