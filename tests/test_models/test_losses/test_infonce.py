import pytest
import torch

from mmkd_contrast.models.losses.infonce import batch_info_nce, info_nce


def per_query_reference(query, keys, tau, offset):
    """-log softmax_j(q_i.k_j/tau)[offset + i], one query at a time."""
    out = torch.zeros(query.shape[0], dtype=torch.float64)
    for i in range(query.shape[0]):
        scores = [
            torch.dot(query[i], keys[j]).double() / tau
            for j in range(keys.shape[0])
        ]
        log_den = torch.logsumexp(torch.stack(scores), dim=0)
        out[i] = log_den - scores[offset + i]
    return out


def test_info_nce_per_query_losses():
    gen = torch.Generator().manual_seed(0)
    query = torch.randn(5, 8, generator=gen)
    keys = torch.randn(7, 8, generator=gen)
    per_query = info_nce(query, keys, 0.2, pos_offset=2, reduction='none')
    expected = per_query_reference(query, keys, 0.2, 2)
    assert per_query.shape == (5, )
    assert torch.allclose(per_query.double(), expected, atol=1e-5)
    assert torch.allclose(
        info_nce(query, keys, 0.2, pos_offset=2), per_query.mean())


@pytest.mark.parametrize('symmetric', [False, True])
def test_batch_info_nce_per_image_losses_keep_leading_dims(symmetric):
    gen = torch.Generator().manual_seed(1)
    # (B, R, D): images on dim 0, R regions contrasted separately.
    s = torch.randn(6, 3, 4, generator=gen)
    t = torch.randn(6, 3, 4, generator=gen)
    per_image = batch_info_nce(
        s, t, 0.5, symmetric, batch_dim=0, reduction='none')
    assert per_image.shape == (3, 6)
    for r in range(3):
        expected = per_query_reference(s[:, r], t[:, r], 0.5, 0)
        if symmetric:
            expected = 0.5 * (
                expected + per_query_reference(t[:, r], s[:, r], 0.5, 0))
        assert torch.allclose(per_image[r].double(), expected, atol=1e-5)
    mean = batch_info_nce(s, t, 0.5, symmetric, batch_dim=0)
    assert torch.allclose(mean, per_image.mean())


def test_info_nce_bad_reduction_raises():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'none'"):
        info_nce(torch.randn(2, 3), torch.randn(2, 3), 0.1, reduction='sum')
