"""PerClassSubset: a deterministic, class-balanced subset of a folder
dataset, with sample indices renumbered for per-sample memories."""
import collections

import numpy as np
import pytest

import mmkd_contrast  # noqa: F401
from mmkd_contrast.datasets import PerClassSubset


def make_folders(root, counts):
    import cv2
    for name, count in counts.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            image = np.full((8, 8, 3), i * 10, np.uint8)
            cv2.imwrite(str(folder / f'{i:04d}.png'), image)


def custom(root):
    return dict(type='mmpretrain.CustomDataset', data_root=str(root),
                data_prefix='', pipeline=[])


def test_first_images_of_each_class_in_dataset_order(tmp_path):
    make_folders(tmp_path, dict(a=5, b=3, c=4))
    subset = PerClassSubset(custom(tmp_path), num_per_class=2)
    assert len(subset) == 6
    labels = [subset.get_cat_ids(i)[0] for i in range(len(subset))]
    assert collections.Counter(labels) == {0: 2, 1: 2, 2: 2}
    names = [subset.get_data_info(i)['img_path'].split('/')[-2:]
             for i in range(len(subset))]
    assert names == [['a', '0000.png'], ['a', '0001.png'],
                     ['b', '0000.png'], ['b', '0001.png'],
                     ['c', '0000.png'], ['c', '0001.png']]
    # sample_idx is the position in the subset, not in the wrapped dataset
    assert [subset[i]['sample_idx'] for i in range(6)] == list(range(6))
    assert subset.metainfo['classes'] == ('a', 'b', 'c')


def test_same_subset_every_time(tmp_path):
    make_folders(tmp_path, dict(a=4, b=4))
    first = PerClassSubset(custom(tmp_path), num_per_class=3).indices
    second = PerClassSubset(custom(tmp_path), num_per_class=3).indices
    assert first == second == [0, 1, 2, 4, 5, 6]


def test_a_class_too_small_is_named(tmp_path):
    make_folders(tmp_path, dict(a=4, b=1))
    with pytest.raises(ValueError, match=r"fewer samples: \{'b': 1\}"):
        PerClassSubset(custom(tmp_path), num_per_class=2)
    with pytest.raises(ValueError, match='positive int'):
        PerClassSubset(custom(tmp_path), num_per_class=0)


def test_built_from_the_registry_lazily(tmp_path):
    from mmkd_contrast.registry import DATASETS
    make_folders(tmp_path, dict(a=2, b=2))
    subset = DATASETS.build(dict(type='PerClassSubset', num_per_class=1,
                                 dataset=custom(tmp_path), lazy_init=True))
    assert subset.indices == []
    assert len(subset) == 2
