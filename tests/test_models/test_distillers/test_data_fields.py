import pytest
import torch
from mmengine.structures import BaseDataElement, PixelData

from mmkd_contrast.models.distillers.data_fields import (DataFieldError,
                                                         read_data_field)

CPU = torch.device('cpu')


def seg_sample(seed, with_idx=False):
    """Shaped like mmseg's SegDataSample after PackSegInputs (which does not
    pack sample_idx unless asked to)."""
    meta = dict(img_shape=(4, 6), ori_shape=(4, 6))
    if with_idx:
        meta['sample_idx'] = seed
    sample = BaseDataElement(metainfo=meta)
    sample.gt_sem_seg = PixelData(
        data=torch.full((1, 4, 6), seed, dtype=torch.long))
    return sample


def test_pixel_data_field_is_stacked():
    value = read_data_field([seg_sample(1), seg_sample(2)], 'gt_sem_seg',
                            CPU)
    assert value.shape == (2, 1, 4, 6)
    assert value[0].unique().tolist() == [1]
    assert value[1].unique().tolist() == [2]


def test_metainfo_key():
    samples = [seg_sample(3, True), seg_sample(7, True)]
    value = read_data_field(samples, 'sample_idx', CPU)
    assert value.dtype == torch.long and value.tolist() == [3, 7]
    shapes = read_data_field(samples, 'img_shape', CPU)
    assert shapes == [(4, 6), (4, 6)]


def test_gt_label_keeps_the_first_label():
    samples = []
    for label in ([4], [2, 9]):
        sample = BaseDataElement()
        sample.gt_label = torch.tensor(label)
        samples.append(sample)
    assert read_data_field(samples, 'gt_label', CPU).tolist() == [4, 2]


def test_missing_field_lists_what_the_samples_have_and_meta_keys():
    with pytest.raises(DataFieldError) as err:
        read_data_field([seg_sample(0)], 'sample_idx', CPU)
    text = str(err.value)
    assert "'sample_idx'" in text
    assert "['gt_sem_seg']" in text  # the data fields
    assert "'img_shape'" in text and "'ori_shape'" in text  # metainfo
    assert 'meta_keys' in text and 'PackSegInputs' in text
    assert isinstance(err.value, KeyError)
