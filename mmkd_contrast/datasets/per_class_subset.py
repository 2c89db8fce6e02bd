import copy
from typing import List, Union

from mmkd_contrast.registry import DATASETS


@DATASETS.register_module()
class PerClassSubset:
    """The first ``num_per_class`` samples of each class of a dataset.

    A deterministic, class-balanced training subset, written in a config
    around any mmpretrain classification dataset (``CustomDataset`` on a
    folder per class, ``CIFAR10``, ...)::

        train_dataloader = dict(dataset=dict(
            type='PerClassSubset', num_per_class=500,
            dataset=dict(type='CustomDataset', data_root=..., ...)))

    Samples are taken in the wrapped dataset's order, so the subset is the
    same in every run and on every rank. The wrapped dataset's pipeline
    runs as usual; only ``sample_idx`` is renumbered to the position in the
    subset (``0 .. len - 1``), so that per-sample memories (CRD's banks)
    are sized to the subset.

    Args:
        dataset (dict | BaseDataset): The dataset to take from; it must
            provide ``get_cat_ids`` (every mmpretrain dataset does).
        num_per_class (int): Samples kept per class.
        lazy_init (bool): Defer reading the annotations until
            :meth:`full_init`. Defaults to False.

    Raises:
        ValueError: If a class has fewer than ``num_per_class`` samples.
    """

    def __init__(self, dataset: Union[dict, object], num_per_class: int,
                 lazy_init: bool = False):
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(num_per_class, int) or num_per_class < 1:
            raise ValueError('PerClassSubset: num_per_class must be a '
                             f'positive int, got {num_per_class!r}')
        self.dataset = dataset
        self.num_per_class = num_per_class
        self.indices: List[int] = []
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self):
        """Read the wrapped dataset and pick the subset's indices."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        num_classes = len(self.dataset.metainfo['classes'])
        picked = [[] for _ in range(num_classes)]
        for idx in range(len(self.dataset)):
            label = int(self.dataset.get_cat_ids(idx)[0])
            if len(picked[label]) < self.num_per_class:
                picked[label].append(idx)
        short = {
            self.dataset.metainfo['classes'][c]: len(p)
            for c, p in enumerate(picked) if len(p) < self.num_per_class
        }
        if short:
            raise ValueError(
                f'PerClassSubset: num_per_class={self.num_per_class} but '
                f'these classes have fewer samples: {short}')
        self.indices = sorted(i for p in picked for i in p)
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self.indices)

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's info of the subset's ``idx``-th sample,
        with ``sample_idx`` set to ``idx``."""
        self.full_init()
        info = self.dataset.get_data_info(self.indices[idx])
        info['sample_idx'] = idx
        return info

    def get_cat_ids(self, idx: int) -> List[int]:
        self.full_init()
        return self.dataset.get_cat_ids(self.indices[idx])

    def __getitem__(self, idx: int) -> dict:
        return self.dataset.pipeline(self.get_data_info(idx))
