import pytest
import torch
from mmpretrain.models.backbones import (DistilledVisionTransformer, MlpMixer,
                                         SwinTransformer, VisionTransformer)

from mmkd_contrast.models import TokenToMap
from mmkd_contrast.registry import MODELS

TINY_VIT = dict(
    embed_dims=32, num_layers=1, num_heads=2, feedforward_channels=64)


def assert_row_major(feat_map, tokens, num_extra_tokens):
    """Pixel (r, c) must be token ``num_extra_tokens + r * w + c``."""
    _, _, h, w = feat_map.shape
    assert tokens.shape[1] == num_extra_tokens + h * w
    for r in range(h):
        for c in range(w):
            assert torch.equal(feat_map[:, :, r, c],
                               tokens[:, num_extra_tokens + r * w + c, :])


@torch.no_grad()
@pytest.mark.parametrize('with_cls_token', [True, False])
def test_vision_transformer_raw_and_featmap(with_cls_token):
    torch.manual_seed(0)
    vit = VisionTransformer(
        arch=TINY_VIT,
        img_size=32,
        patch_size=8,
        out_type='raw',
        with_cls_token=with_cls_token)
    images = torch.randn(2, 3, 32, 32)
    raw = vit(images)
    assert isinstance(raw, tuple)
    extra = 1 if with_cls_token else 0
    assert raw[-1].shape == (2, extra + 16, 32)
    feat_map = TokenToMap(num_extra_tokens=extra)(raw)
    assert feat_map.shape == (2, 32, 4, 4)
    assert_row_major(feat_map, raw[-1], extra)

    # The backbone's own 'featmap' output passes unchanged and agrees.
    vit.out_type = 'featmap'
    featmap = vit(images)
    assert featmap[-1].shape == (2, 32, 4, 4)
    assert TokenToMap(num_extra_tokens=extra)(featmap) is featmap[-1]
    torch.testing.assert_close(feat_map, featmap[-1], rtol=0, atol=0)


@torch.no_grad()
@pytest.mark.parametrize('out_type', ['cls_token', 'avg_featmap'])
def test_vision_transformer_pooled_outputs_raise(out_type):
    vit = VisionTransformer(
        arch=TINY_VIT, img_size=32, patch_size=8, out_type=out_type)
    out = vit(torch.randn(2, 3, 32, 32))
    assert out[-1].shape == (2, 32)
    with pytest.raises(ValueError, match='pooled'):
        TokenToMap(num_extra_tokens=1)(out)


@torch.no_grad()
def test_distilled_vision_transformer():
    torch.manual_seed(0)
    deit = DistilledVisionTransformer(
        arch=TINY_VIT, img_size=32, patch_size=8, out_type='raw')
    images = torch.randn(2, 3, 32, 32)
    raw = deit(images)
    assert raw[-1].shape == (2, 2 + 16, 32)
    feat_map = TokenToMap(num_extra_tokens=2)(raw)
    assert feat_map.shape == (2, 32, 4, 4)
    assert_row_major(feat_map, raw[-1], 2)

    deit.out_type = 'featmap'
    torch.testing.assert_close(
        TokenToMap(num_extra_tokens=2)(deit(images)), feat_map, rtol=0,
        atol=0)

    # 'cls_token' gives ((cls, dist), ) per stage: pooled vectors.
    deit.out_type = 'cls_token'
    out = deit(images)
    assert isinstance(out[-1], tuple) and out[-1][0].shape == (2, 32)
    with pytest.raises(ValueError, match='pooled'):
        TokenToMap(num_extra_tokens=2)(out)
    # Dropping one token too few leaves 17 tokens: not a square.
    with pytest.raises(ValueError, match='N=17.*num_extra_tokens=1'):
        TokenToMap(num_extra_tokens=1)(raw)


@torch.no_grad()
def test_swin_transformer_maps_and_stage_tokens():
    torch.manual_seed(0)
    swin = SwinTransformer(
        arch=dict(embed_dims=16, depths=[1, 1], num_heads=[1, 2]),
        img_size=32,
        patch_size=4,
        window_size=4,
        out_indices=(0, 1))
    captured = {}
    swin.stages[0].register_forward_hook(
        lambda module, args, out: captured.update(stage0=out))
    outs = swin(torch.randn(2, 3, 32, 32))
    # The backbone returns (B, C, H, W) stage maps: passed unchanged.
    assert outs[-1].shape == (2, 32, 4, 4)
    assert TokenToMap()(outs) is outs[-1]
    assert TokenToMap()(outs[0]) is outs[0]

    # A Swin stage returns a (tokens, (h, w)) pair; its tokens are the
    # pre-norm stage-0 features of the 8x8 patch grid.
    tokens, hw = captured['stage0']
    assert tuple(hw) == (8, 8) and tokens.shape == (2, 64, 16)
    feat_map = TokenToMap()(captured['stage0'])
    assert feat_map.shape == (2, 16, 8, 8)
    assert_row_major(feat_map, tokens, 0)
    # The backbone's own stage-0 map is the normalised version of it.
    torch.testing.assert_close(
        TokenToMap()(swin.norm0(tokens)), outs[0], rtol=0, atol=0)


@torch.no_grad()
def test_mlp_mixer_channels_first_and_block_tokens():
    torch.manual_seed(0)
    mixer = MlpMixer(
        arch=dict(
            embed_dims=16,
            num_layers=2,
            tokens_mlp_dims=8,
            channels_mlp_dims=32),
        img_size=32,
        patch_size=8)
    captured = {}
    mixer.layers[0].register_forward_hook(
        lambda module, args, out: captured.update(block0=out))
    outs = mixer(torch.randn(2, 3, 32, 32))
    # The MlpMixer backbone returns (B, C, N), not (B, N, C).
    assert outs[-1].shape == (2, 16, 16)
    feat_map = TokenToMap(channels_first=True)(outs)
    assert feat_map.shape == (2, 16, 4, 4)
    assert_row_major(feat_map, outs[-1].transpose(1, 2), 0)

    # A mixer block (what a tap inside the backbone sees) gives (B, N, C).
    block = captured['block0']
    assert block.shape == (2, 16, 16)
    feat_map = TokenToMap()(block)
    assert_row_major(feat_map, block, 0)


def test_rectangular_hw_and_errors():
    tokens = torch.arange(2 * (1 + 6) * 3, dtype=torch.float32).reshape(
        2, 7, 3)
    feat_map = TokenToMap(num_extra_tokens=1, hw=(2, 3))(tokens)
    assert feat_map.shape == (2, 3, 2, 3)
    assert_row_major(feat_map, tokens, 1)
    with pytest.raises(ValueError, match='N=6.*num_extra_tokens=1'):
        TokenToMap(num_extra_tokens=1)(tokens)
    with pytest.raises(ValueError, match=r'hw=\(3, 3\)'):
        TokenToMap(num_extra_tokens=1, hw=(3, 3))(tokens)
    with pytest.raises(ValueError, match='pooled'):
        TokenToMap()(torch.randn(2, 8))
    with pytest.raises(ValueError, match='no patch token'):
        TokenToMap(num_extra_tokens=7)(tokens)
    with pytest.raises(ValueError, match='num_extra_tokens'):
        TokenToMap(num_extra_tokens=-1)
    with pytest.raises(ValueError, match='hw'):
        TokenToMap(hw=4)


def test_registered():
    module = MODELS.build(dict(type='TokenToMap', num_extra_tokens=1))
    assert isinstance(module, TokenToMap)
    assert module(torch.randn(1, 5, 2)).shape == (1, 2, 2, 2)
