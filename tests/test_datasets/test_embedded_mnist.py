import numpy as np
import pytest

from mmkd_contrast.datasets import EmbeddedMNIST
from mmkd_contrast.registry import DATASETS


def labels_of(ds):
    return np.array([ds.get_data_info(i)['gt_label'] for i in range(len(ds))])


def test_fixed_split_sizes_and_classes():
    train = EmbeddedMNIST(split='train')
    test = EmbeddedMNIST(split='test')
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(labels_of(train)).tolist() == [400] * 10
    assert np.bincount(labels_of(test)).tolist() == [100] * 10
    assert train.CLASSES == tuple(str(i) for i in range(10))
    assert test.test_mode and not train.test_mode


def test_split_is_disjoint_and_stable():
    train = EmbeddedMNIST(split='train')
    test = EmbeddedMNIST(split='test')
    assert not set(train.split_indices()) & set(test.split_indices())
    # Fixed by file order: first 400 of each class train, last 100 test.
    assert train.split_indices()[:3].tolist() == [0, 1, 2]
    assert test.split_indices()[:3].tolist() == [400, 401, 402]
    a = EmbeddedMNIST(split='train').get_data_info(123)['img']
    b = train.get_data_info(123)['img']
    assert a.shape == (28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b) and a.max() > 100


def test_reduced_training_subset():
    ds = EmbeddedMNIST(split='train', train_subset_per_class=20)
    assert len(ds) == 200
    assert np.bincount(labels_of(ds)).tolist() == [20] * 10
    with pytest.raises(ValueError, match='train_subset_per_class'):
        EmbeddedMNIST(train_subset_per_class=401)
    with pytest.raises(ValueError, match="'val'"):
        EmbeddedMNIST(split='val')


def test_pipeline_and_registry():
    ds = DATASETS.build(
        dict(
            type='EmbeddedMNIST',
            split='test',
            pipeline=[dict(type='PackInputs')]))
    item = ds[5]
    assert tuple(item['inputs'].shape) == (1, 28, 28)
    assert item['data_samples'].gt_label.item() == 0
    assert item['data_samples'].sample_idx == 5
