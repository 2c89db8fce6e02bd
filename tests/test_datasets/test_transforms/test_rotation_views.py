import numpy as np
import pytest
import torch

from mmkd_contrast.datasets import RotationViews
from mmkd_contrast.registry import TRANSFORMS


def rotate_ccw(img, quarter_turns):
    """Counter-clockwise rotation written out: out[i, j] = img[j, W-1-i]."""
    out = img
    for _ in range(quarter_turns):
        height, width = out.shape[:2]
        turned = np.empty((width, height) + out.shape[2:], dtype=out.dtype)
        for i in range(width):
            for j in range(height):
                turned[i, j] = out[j, width - 1 - i]
        out = turned
    return out


def make_results(height=5, width=5, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return dict(img=img, img_shape=(height, width), ori_shape=(height, width),
                gt_label=3)


@pytest.mark.parametrize('flip_prob', [0.0, 1.0])
def test_views_are_rotations_of_the_flipped_image(flip_prob):
    results = make_results()
    img = results['img'].copy()
    expected_source = img[:, ::-1] if flip_prob == 1.0 else img
    out = RotationViews(flip_prob=flip_prob)(results)
    assert out['img'].shape == (4, 3, 5, 5)
    for k in range(4):
        expected = rotate_ccw(expected_source, k).transpose(2, 0, 1)
        np.testing.assert_array_equal(out['img'][k], expected)
    assert out['flip'] is (flip_prob == 1.0)
    assert out['flip_direction'] == ('horizontal' if flip_prob else None)
    assert out['num_views'] == 4 and out['img_shape'] == (5, 5)
    assert out['gt_label'] == 3


def test_grayscale_image_gets_a_channel_axis():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    out = RotationViews(flip_prob=0.0)(dict(img=img))
    assert out['img'].shape == (4, 1, 4, 4)
    np.testing.assert_array_equal(out['img'][1, 0], rotate_ccw(img, 1))


def test_view_pipeline_runs_per_view_independently():
    np.random.seed(0)
    transform = RotationViews(
        view_pipeline=[dict(type='RandomCrop', crop_size=6, padding=3)],
        flip_prob=0.0)
    img = np.full((6, 6, 3), 255, dtype=np.uint8)
    out = transform(dict(img=img, img_shape=(6, 6)))
    assert out['img'].shape == (4, 3, 6, 6)
    # Each view is cropped at its own offset: the zero padding lands in
    # different places, so the (otherwise identical) views differ.
    masks = [(view == 0).any(axis=0) for view in out['img']]
    assert any(not np.array_equal(masks[0], m) for m in masks[1:])


def test_views_pack_to_a_4d_tensor():
    pipeline = [
        TRANSFORMS.build(dict(type='RotationViews', flip_prob=0.5)),
        TRANSFORMS.build(dict(type='PackInputs')),
    ]
    results = make_results(height=4, width=4)
    img = results['img'].copy()
    for t in pipeline:
        results = t(results)
    inputs, sample = results['inputs'], results['data_samples']
    assert isinstance(inputs, torch.Tensor)
    assert inputs.shape == (4, 3, 4, 4)
    source = img[:, ::-1] if sample.flip else img
    assert torch.equal(inputs[2],
                       torch.from_numpy(np.rot90(source, 2).copy()).permute(
                           2, 0, 1))
    assert sample.gt_label.tolist() == [3]


def test_non_square_views_must_be_cropped_to_one_shape():
    with pytest.raises(ValueError, match=r'\(5, 3, 3\).*\(3, 5, 3\)'):
        RotationViews(flip_prob=0.0)(make_results(height=5, width=3))
    out = RotationViews(
        view_pipeline=[dict(type='RandomCrop', crop_size=3)],
        flip_prob=0.0)(make_results(height=5, width=3))
    assert out['img'].shape == (4, 3, 3, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match='flip_prob'):
        RotationViews(flip_prob=1.5)
    with pytest.raises(ValueError, match=r'\(2, 3, 4, 5\)'):
        RotationViews()(dict(img=np.zeros((2, 3, 4, 5), dtype=np.uint8)))
