import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate, pseudo_collate
from mmpretrain.models import ClsDataPreprocessor
from mmpretrain.structures import DataSample

from mmkd_contrast.datasets import RotationViews
from mmkd_contrast.models import MultiViewClsDataPreprocessor
from mmkd_contrast.registry import MODELS, TRANSFORMS

NORM = dict(mean=[10., 20., 30.], std=[2., 4., 8.], to_rgb=True)


def rotation_batch(labels, size=4, seed=0):
    """Samples made by RotationViews + PackInputs, one per label."""
    rng = np.random.default_rng(seed)
    pipeline = [
        RotationViews(flip_prob=0.0),
        TRANSFORMS.build(dict(type='PackInputs')),
    ]
    samples, images = [], []
    for label in labels:
        img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        images.append(img)
        results = dict(img=img, gt_label=label)
        for t in pipeline:
            results = t(results)
        samples.append(results)
    return samples, images


def normalise(img_hwc):
    """The parent's preprocessing of one view written out: HWC uint8 -> CHW
    float, BGR->RGB, (x - mean) / std."""
    chw = torch.from_numpy(np.ascontiguousarray(img_hwc)).permute(2, 0,
                                                                  1).float()
    chw = chw.flip(0)
    mean = torch.tensor(NORM['mean']).view(3, 1, 1)
    std = torch.tensor(NORM['std']).view(3, 1, 1)
    return (chw - mean) / std


@pytest.mark.parametrize('collate', [default_collate, pseudo_collate])
def test_views_are_view_major_with_labels_repeated(collate):
    labels = [7, 2, 5]
    samples, images = rotation_batch(labels)
    preprocessor = MultiViewClsDataPreprocessor(**NORM)
    out = preprocessor(collate(samples), training=True)
    inputs, data_samples = out['inputs'], out['data_samples']
    assert inputs.shape == (12, 3, 4, 4)
    assert len(data_samples) == 12
    for view in range(4):
        for image in range(3):
            row = view * 3 + image
            expected = normalise(np.rot90(images[image], view))
            assert torch.allclose(inputs[row], expected), (view, image)
            sample = data_samples[row]
            assert sample.gt_label.tolist() == [labels[image]]
            assert sample.num_views == 4 and sample.view_index == view
    # The copies are separate objects: the metainfo of one view does not
    # leak into another.
    assert data_samples[0].view_index == 0 and data_samples[3].view_index == 1


def collate_single_view(seed=1):
    rng = np.random.default_rng(seed)
    samples = []
    for label in (1, 0, 4):
        sample = DataSample().set_gt_label(label)
        img = torch.from_numpy(
            rng.integers(0, 256, (3, 5, 5), dtype=np.uint8))
        samples.append(dict(inputs=img, data_samples=sample))
    return samples


@pytest.mark.parametrize('collate', [default_collate, pseudo_collate])
def test_single_view_batch_equals_parent(collate):
    samples = collate_single_view()
    expected = ClsDataPreprocessor(**NORM, pad_size_divisor=8)(
        collate(samples))
    out = MultiViewClsDataPreprocessor(**NORM, pad_size_divisor=8)(
        collate(collate_single_view()))
    assert out['inputs'].shape == (3, 3, 8, 8)
    assert torch.equal(out['inputs'], expected['inputs'])
    assert len(out['data_samples']) == 3
    for got, want in zip(out['data_samples'], expected['data_samples']):
        assert torch.equal(got.gt_label, want.gt_label)
        assert 'num_views' not in got


def test_inputs_without_data_samples():
    samples, _ = rotation_batch([0, 1])
    batch = default_collate(samples)
    batch.pop('data_samples')
    out = MultiViewClsDataPreprocessor()(batch)
    assert out['inputs'].shape == (8, 3, 4, 4)
    assert out['data_samples'] is None


def test_batch_augments_refused_on_multi_view_training_batch():
    samples, _ = rotation_batch([0, 1])
    preprocessor = MultiViewClsDataPreprocessor(
        num_classes=10,
        batch_augments=dict(augments=dict(type='Mixup', alpha=1.0)))
    with pytest.raises(ValueError, match='batch_augments'):
        preprocessor(default_collate(samples), training=True)


def test_mixed_view_counts_raise():
    batch = dict(inputs=[torch.zeros(4, 3, 2, 2), torch.zeros(3, 2, 2)])
    with pytest.raises(ValueError, match='mixes'):
        MultiViewClsDataPreprocessor()(batch)


def test_built_from_registry():
    preprocessor = MODELS.build(
        dict(type='MultiViewClsDataPreprocessor', **NORM))
    assert isinstance(preprocessor, MultiViewClsDataPreprocessor)
