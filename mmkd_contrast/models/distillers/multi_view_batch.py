"""The layout check of a view-major multi-view training batch."""
import torch

from ...utils import shape_of


def check_multi_view_batch(inputs, data_samples):
    """Check a view-major multi-view batch (PCKD's training batch).

    Args:
        inputs (Tensor): ``(V*B, C, H, W)``.
        data_samples (list): ``V*B`` samples whose metainfo has
            ``num_views`` and ``view_index`` (row ``r`` is view
            ``r // B``).

    Returns:
        tuple[int, int]: ``(V, B)``.

    Raises:
        ValueError: The batch is not such a batch; says how to make one.
    """
    hint = ('PCKD trains on a multi-view batch: use the RotationViews '
            'transform and MultiViewClsDataPreprocessor')
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
        raise ValueError(f'PCKDDistiller expects inputs (V*B, C, H, W), '
                         f'got {shape_of(inputs)}. {hint}')
    if data_samples is None or len(data_samples) != inputs.shape[0]:
        raise ValueError(
            f'PCKDDistiller: {inputs.shape[0]} inputs but '
            f'{"no" if data_samples is None else len(data_samples)} '
            'data samples')
    num_views = data_samples[0].metainfo.get('num_views')
    if num_views is None:
        raise ValueError('PCKDDistiller: the data samples carry no '
                         f"'num_views' metainfo. {hint}")
    if inputs.shape[0] % num_views:
        raise ValueError(
            f'PCKDDistiller: {inputs.shape[0]} samples is not a multiple '
            f'of num_views = {num_views}')
    num_images = inputs.shape[0] // num_views
    for row, sample in enumerate(data_samples):
        if sample.metainfo.get('view_index') != row // num_images:
            raise ValueError(
                f'PCKDDistiller: sample {row} has view_index '
                f"{sample.metainfo.get('view_index')}, expected "
                f'{row // num_images} in a view-major batch of '
                f'{num_views} x {num_images}. {hint}')
    return num_views, num_images
