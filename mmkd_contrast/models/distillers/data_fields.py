"""Reading a field of a batch's data samples for a distillation loss."""
from typing import Any, List, Sequence

import torch

from mmkd_contrast.utils import host_to_device

__all__ = ['DataFieldError', 'read_data_field']


class DataFieldError(KeyError):
    """A loss input names a field that the batch's data samples lack."""

    def __str__(self):
        # KeyError would print the message quoted, with escaped newlines.
        return str(self.args[0]) if self.args else ''


def _describe_sample(sample) -> str:
    data = sorted(sample.keys()) if hasattr(sample, 'keys') else []
    meta = sorted(sample.metainfo_keys()) \
        if hasattr(sample, 'metainfo_keys') else []
    return (f'{type(sample).__name__} with data fields {data} and '
            f'metainfo keys {meta}')


def _value(sample, field):
    """One sample's ``field``: a data field, else a metainfo key."""
    if hasattr(sample, 'keys') and field in sample.keys():
        value = getattr(sample, field)
    elif hasattr(sample, 'metainfo_keys') and \
            field in sample.metainfo_keys():
        value = sample.metainfo[field]
    elif hasattr(sample, field):
        value = getattr(sample, field)
    else:
        raise DataFieldError(
            f"data field {field!r} is not in the data samples: they are "
            f'{_describe_sample(sample)}. A metainfo key that the packing '
            "transform dropped (e.g. 'sample_idx' with mmseg's "
            'PackSegInputs or mmdet\'s PackDetInputs) must be listed in its '
            f"meta_keys: dict(type='Pack...Inputs', meta_keys=(..., "
            f"{field!r})).")
    # PixelData (gt_sem_seg) and similar elements hold their tensor in
    # ``data``.
    if not isinstance(value, torch.Tensor) and \
            isinstance(getattr(value, 'data', None), torch.Tensor):
        value = value.data
    return value


def read_data_field(data_samples: Sequence[Any], field: str,
                    device: torch.device) -> Any:
    """The batch's ``field``, stacked when possible.

    ``gt_label`` gives each sample's first label as a ``(B,)`` long tensor.
    Any other name is read from each sample's data fields
    (``gt_sem_seg`` gives its ``(1, H, W)`` map, stacked to
    ``(B, 1, H, W)``) or metainfo (``sample_idx``). Tensors of one shape are
    stacked, numbers become a tensor (``long`` for integers), and anything
    else (instance data of varying length) comes back as a list.

    Args:
        data_samples (Sequence): The batch's data samples.
        field (str): The field or metainfo key.
        device (torch.device): Where the stacked tensor goes.

    Raises:
        DataFieldError: A sample lacks the field; the message lists what the
            samples have and mentions the packer's ``meta_keys``.
    """
    if not data_samples:
        raise DataFieldError(
            f'data field {field!r}: the batch has no data samples')
    values: List[Any] = [_value(sample, field) for sample in data_samples]
    # Host data goes to the device without making the host wait for it
    # (see host_to_device), in the middle of the training step.
    if field == 'gt_label':
        return host_to_device(
            torch.cat([torch.as_tensor(x).view(-1)[:1] for x in values]),
            device, dtype=torch.long)
    if all(isinstance(v, torch.Tensor) for v in values) and \
            len({tuple(v.shape) for v in values}) == 1:
        return host_to_device(torch.stack(values), device)
    for kind, dtype in ((bool, torch.bool), (int, torch.long),
                        ((int, float), torch.float)):
        if all(isinstance(v, kind) for v in values):
            return host_to_device(values, device, dtype=dtype)
    return values
