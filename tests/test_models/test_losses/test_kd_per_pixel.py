"""KDLoss on per-pixel logits (segmentation), with the label ignore index."""
import pytest
import torch
import torch.nn.functional as F

from mmkd_contrast.models.losses import KDLoss


def reference(s, t, tau, mask=None):
    """KL(p_t || p_s) per position, averaged over the kept positions."""
    b, c, h, w = s.shape
    s = s.permute(0, 2, 3, 1).reshape(-1, c)
    t = t.permute(0, 2, 3, 1).reshape(-1, c)
    kl = F.kl_div(F.log_softmax(s / tau, 1), F.softmax(t / tau, 1),
                  reduction='none').sum(1)
    if mask is not None:
        kl = kl[mask.reshape(-1)]
    return tau**2 * kl.mean()


def test_per_pixel_is_the_mean_over_positions():
    torch.manual_seed(0)
    s, t = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
    loss = KDLoss(tau=2.0)(s, t)
    torch.testing.assert_close(loss, reference(s, t, 2.0))


def test_ignore_index_leaves_positions_out():
    torch.manual_seed(0)
    s, t = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
    labels = torch.randint(0, 5, (2, 3, 4))
    labels[0, 0] = 255
    labels[1, :, 1] = 255
    loss = KDLoss(tau=1.0)(s, t, labels=labels)
    torch.testing.assert_close(loss, reference(s, t, 1.0, labels != 255))
    assert not torch.allclose(loss, reference(s, t, 1.0))
    # An mmseg (B, 1, H, W) map gives the same.
    torch.testing.assert_close(
        KDLoss(tau=1.0)(s, t, labels=labels[:, None]), loss)


def test_labels_at_full_resolution_are_resized_nearest():
    torch.manual_seed(0)
    s, t = torch.randn(1, 3, 2, 2), torch.randn(1, 3, 2, 2)
    labels = torch.zeros(1, 1, 8, 8, dtype=torch.long)
    labels[..., :4, :] = 255  # the top half of the image
    loss = KDLoss(tau=1.0)(s, t, labels=labels)
    mask = torch.tensor([[[False, False], [True, True]]])
    torch.testing.assert_close(loss, reference(s, t, 1.0, mask))


def test_all_ignored_gives_zero_and_grad_flows():
    s = torch.randn(1, 3, 2, 2, requires_grad=True)
    loss = KDLoss()(s, torch.randn(1, 3, 2, 2),
                    labels=torch.full((1, 2, 2), 255))
    assert loss.item() == 0
    loss.backward()
    assert s.grad is not None


def test_classification_shape_unchanged():
    torch.manual_seed(0)
    s, t = torch.randn(4, 10), torch.randn(4, 10)
    kl = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1),
                  reduction='sum') / 4
    torch.testing.assert_close(KDLoss()(s, t), 16 * kl)


def test_bad_labels_named():
    with pytest.raises(ValueError, match='labels must have shape'):
        KDLoss()(torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4),
                 labels=torch.zeros(3, 4, 4))
