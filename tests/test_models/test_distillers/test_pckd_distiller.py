import glob
import math
import os.path as osp
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmpretrain.models import ClsDataPreprocessor
from mmpretrain.structures import DataSample

from mmkd_contrast.models import (MultiViewClsDataPreprocessor,
                                  PCKDDistiller)
from mmkd_contrast.models.distillers import pckd_setup
from mmkd_contrast.utils import build_in_scope
from mmkd_contrast.registry import TRANSFORMS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
PCKD_CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'pckd', '*.py'))) + [
        osp.join(ROOT, 'configs', 'quickstart',
                 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
    ]
NUM_CLASSES = 5
# The released objective plus the optional KD term (delta = 1).
WITH_KD = dict(pckd_setup.DEFAULT_LOSSES, kd=pckd_setup.KD_LOSS)


def tiny_net(width, num_classes=NUM_CLASSES):
    """A 1-channel CIFAR ResNet-18 with 8 * width output channels."""
    return dict(
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            in_channels=1,
            stem_channels=width,
            base_channels=width),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=8 * width,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def build(student_width=2, teacher_width=2, teacher_classes=NUM_CLASSES,
          **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='PCKDDistiller',
        student=tiny_net(student_width),
        teacher=tiny_net(teacher_width, teacher_classes),
        data_preprocessor=dict(
            type='MultiViewClsDataPreprocessor', mean=[100.], std=[50.]))
    cfg.update(kwargs)
    return build_in_scope(cfg)


def multi_view_batch(model, labels, size=8, seed=0):
    """Images through RotationViews + PackInputs and the model's
    multi-view preprocessor, as in training."""
    rng = np.random.default_rng(seed)
    rotate = TRANSFORMS.build(dict(type='RotationViews', flip_prob=0.5))
    pack = TRANSFORMS.build(dict(type='PackInputs'))
    samples = [
        pack(rotate(dict(img=rng.integers(0, 256, (size, size),
                                          dtype=np.uint8), gt_label=label)))
        for label in labels
    ]
    data = model.data_preprocessor(default_collate(samples), training=True)
    return data['inputs'], data['data_samples']


# ------------------------------------------------------------ references
def reference_cc(u_s, u_t, labels, weight, tau=4.0, tau_b=0.07):
    """L_CC (docs/pckd.md, "The formulas") as loops over anchors, in
    float64."""
    anchors = [(u.detach().double(), int(y)) for u, y in zip(u_s, labels)]
    anchors += [(u.detach().double(), int(y)) for u, y in zip(u_t, labels)]
    num = len(labels)

    def ell(a):
        vec, label = anchors[a]
        others = [k for k in range(2 * num) if k != a]
        log_denom = math.log(
            sum(math.exp(float(vec @ anchors[k][0]) / tau) for k in others))
        positives = [p for p in others if anchors[p][1] == label]
        total = sum(
            float(vec @ anchors[p][0]) / tau - log_denom for p in positives)
        return -(tau / tau_b) * total / len(positives)

    return sum(
        float(weight[n]) * (ell(n) + ell(num + n)) for n in range(num)) / num


def reference_terms(model, inputs, data_samples, epoch):
    """Every PCKD term computed by hand from the models' own modules."""
    student, teacher = model.student, model.teacher
    labels = torch.tensor([int(ds.gt_label) for ds in data_samples])
    num_images = len(labels) // 4
    f_s = student.extract_feat(inputs)[-1]
    logits_s = student.head.fc(f_s)
    with torch.no_grad():
        f_t = teacher.extract_feat(inputs)[-1]
        logits_t = teacher.head.fc(f_t)
    w_s, b_s = student.head.fc.weight, student.head.fc.bias
    w_t, b_t = teacher.head.fc.weight, teacher.head.fc.bias

    ce = torch.stack([
        -F.log_softmax(logits_s[i], dim=0)[labels[i]]
        for i in range(num_images)
    ])
    gamma = ce.detach() / ce.detach().mean()
    threshold = 1.005**epoch
    v = torch.tensor([
        1.0 if g <= threshold else math.exp(-float(g)**2) for g in gamma
    ])

    kd = 0.
    for i in range(num_images):
        p_t = F.softmax(logits_t[i] / 4, dim=0)
        log_p_s = F.log_softmax(logits_s[i] / 4, dim=0)
        kl = (p_t * (p_t.log() - log_p_s)).sum()
        kd = kd + v[i] * 16 * kl
    kd = kd / num_images

    def embed(head, feat):
        out = feat @ head.proj.weight.t() + head.proj.bias
        return out / out.norm(dim=1, keepdim=True)

    u_s = embed(model.connectors['s_embed'], f_s) @ w_s.t()
    u_t = embed(model.connectors['t_embed'], f_s) @ w_t.t()
    cc = 0.05 * reference_cc(u_s, u_t, labels, v.repeat(4))

    ca = ((torch.cat([w_s, b_s[:, None]], 1) -
           torch.cat([w_t, b_t[:, None]], 1))**2).mean()

    g = model.connectors['s_align'].proj(f_s)
    cos = (g * f_t).sum(1) / (g.norm(dim=1) * f_t.norm(dim=1))
    fa = 20 * (2 - 2 * cos.mean())
    return dict(ce=ce.mean(), v=v, kd=kd, cc=cc, ca=ca, fa=fa)


# ----------------------------------------------------------------- tests
def test_terms_and_total_match_hand_computation():
    model = build(distill_losses=WITH_KD)
    model.set_epoch(1)  # the first epoch: threshold 1.005
    model.train()
    inputs, samples = multi_view_batch(model, [0, 1, 1, 3, 4, 0])
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {
        'student.loss', 'distill.preview_weight', 'distill.loss_kd',
        'distill.loss_cc', 'distill.loss_ca', 'distill.loss_fa'
    }
    ref = reference_terms(model, inputs, samples, epoch=1)
    # Some samples are previewed (v < 1), some are not.
    assert (ref['v'] < 1).any() and (ref['v'] == 1).any()
    pairs = dict(
        ce='student.loss', kd='distill.loss_kd', cc='distill.loss_cc',
        ca='distill.loss_ca', fa='distill.loss_fa')
    for term, key in pairs.items():
        assert torch.allclose(
            losses[key].double(), torch.as_tensor(ref[term]).double(),
            rtol=1e-4, atol=1e-5), (term, losses[key], ref[term])
    assert torch.allclose(losses['distill.preview_weight'], ref['v'].mean())
    total, _ = model.parse_losses(losses)
    expected = sum(torch.as_tensor(ref[t]).double() for t in pairs)
    assert torch.allclose(total.double(), expected, rtol=1e-4)


def test_gradient_routing():
    model = build()
    model.set_epoch(4)
    model.train()
    # The distiller must detach the teacher classifier itself, even if
    # someone unfroze it.
    teacher_fc = model.teacher.head.fc
    teacher_fc.weight.requires_grad_(True)
    teacher_fc.bias.requires_grad_(True)
    inputs, samples = multi_view_batch(model, [0, 1, 2, 0])
    total, _ = model.parse_losses(model(inputs, samples, mode='loss'))
    total.backward()

    def has_grad(module):
        return all(p.grad is not None and p.grad.abs().sum() > 0
                   for p in module.parameters())

    assert has_grad(model.student.backbone.conv1)
    assert has_grad(model.student.head.fc)
    assert has_grad(model.connectors['s_embed'])
    assert has_grad(model.connectors['t_embed'])
    assert has_grad(model.connectors['s_align'])
    assert teacher_fc.weight.grad is None and teacher_fc.bias.grad is None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_rotated_views_only_feed_contrast_and_alignment():
    """CE and KD see the unrotated rows only: changing a rotated view
    leaves them unchanged and changes L_CC and L_FA.

    At the last epoch of 240 the preview threshold (3.31) exceeds the
    largest possible CE ratio of a 3-image batch (3), so every preview
    weight is 1: at epoch 1 a hard image's weight can be ~1e-4, and the
    change of its views' L_CC then vanishes below fp32 resolution."""
    model = build(distill_losses=WITH_KD)
    model.set_epoch(240)
    model.eval()  # fixed BN statistics, so rows do not interact
    inputs, samples = multi_view_batch(model, [0, 1, 2])
    before = model(inputs, samples, mode='loss')
    inputs = inputs.clone()
    inputs[5] = torch.randn_like(inputs[5])  # view 1 of image 2
    after = model(inputs, samples, mode='loss')
    for key in ('student.loss', 'distill.loss_kd', 'distill.loss_ca'):
        assert torch.equal(before[key], after[key]), key
    for key in ('distill.loss_cc', 'distill.loss_fa'):
        assert not torch.equal(before[key], after[key]), key


def test_preview_epoch_comes_from_set_epoch():
    model = build()
    model.train()
    inputs, samples = multi_view_batch(model, [0, 1, 2, 3])
    with mock.patch.object(
            model.preview, 'threshold',
            wraps=model.preview.threshold) as spy:
        for epoch in (1, 60, 240):
            model.set_epoch(epoch, 240)
            model(inputs, samples, mode='loss')
            assert spy.call_args.args[0] == epoch
            # The weights read the threshold from the buffer.
            assert math.isclose(model._threshold.item(),
                                model.preview.base**epoch, rel_tol=1e-6)
    with pytest.raises(ValueError, match='epoch is 1-based, got 0'):
        model.set_epoch(0)
    # With final_threshold, max_epochs comes with the epoch.
    model = build(
        preview=dict(type='PreviewWeighting', final_threshold=3.31))
    model.set_epoch(2, 4)
    losses = model(inputs, samples, mode='loss')
    assert model.preview.max_epochs == 4
    assert math.isclose(model.preview.base, 3.31**0.25)
    assert torch.isfinite(losses['distill.loss_cc'])


def test_preview_weights_follow_the_epoch():
    """A late epoch (threshold 3.31) previews fewer samples than epoch 1."""
    model = build()
    model.train()
    inputs, samples = multi_view_batch(model, [0, 1, 2, 3, 4, 0, 1, 2])
    model.set_epoch(1)
    early = model(inputs, samples, mode='loss')['distill.preview_weight']
    model.set_epoch(240)
    late = model(inputs, samples, mode='loss')['distill.preview_weight']
    assert early < 1 and late > early


def test_center_align_absent_and_logged_once_when_widths_differ():
    with mock.patch.object(pckd_setup, 'print_log') as log:
        model = build(student_width=2, teacher_width=4,
                      distill_losses=WITH_KD)
        inputs, samples = multi_view_batch(model, [0, 1, 2])
        for _ in range(2):
            losses = model(inputs, samples, mode='loss')
    messages = [str(call.args[0]) for call in log.call_args_list]
    about_ca = [m for m in messages if 'L_CA' in m]
    assert len(about_ca) == 1
    assert 'd_s = 16' in about_ca[0] and 'd_t = 32' in about_ca[0]
    assert 'ca' not in model.distill_losses
    assert 'distill.loss_ca' not in losses
    assert {'distill.loss_kd', 'distill.loss_cc',
            'distill.loss_fa'} <= set(losses)
    # e_t maps d_s -> d_t, g maps d_s -> d_t.
    assert model.connectors['t_embed'].proj.weight.shape == (32, 16)
    assert model.connectors['s_align'].proj[-1].weight.shape == (32, 16 * 32)
    # Equal widths: L_CA present, nothing logged about it.
    with mock.patch.object(pckd_setup, 'print_log') as log:
        model = build()
    assert 'ca' in model.distill_losses
    assert not any('L_CA' in str(c.args[0]) for c in log.call_args_list)


def test_different_class_counts_fail_at_build():
    with pytest.raises(ValueError, match='student has 5 classes.*teacher '
                       'has 7'):
        build(teacher_classes=7)


@pytest.mark.parametrize('bad', [5, 9, -1])
def test_label_out_of_range_is_named(bad):
    model = build()
    inputs, samples = multi_view_batch(model, [0, 1, 2])
    for sample in samples[1::3]:
        sample.set_gt_label(bad)
    with pytest.raises(ValueError, match=rf'label {bad} is outside \[0, 5\)'):
        model(inputs, samples, mode='loss')


def test_no_repeated_label_still_contrasts():
    """Every label occurs once per view: the other views of the same image
    (and the other head) are the positives, so L_CC is finite and equals
    the reference."""
    model = build()
    model.train()
    inputs, samples = multi_view_batch(model, [0, 1, 2, 3, 4])
    losses = model(inputs, samples, mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    ref = reference_terms(model, inputs, samples, epoch=1)
    assert losses['distill.loss_cc'] > 0
    assert torch.allclose(losses['distill.loss_cc'].double(),
                          torch.as_tensor(ref['cc']).double(), rtol=1e-4)


def test_single_view_batch_is_rejected():
    """Without RotationViews the batch carries no views: a clear error."""
    model = build()
    inputs = torch.randn(4, 1, 8, 8)
    samples = [DataSample().set_gt_label(i) for i in range(4)]
    with pytest.raises(ValueError, match='RotationViews'):
        model(inputs, samples, mode='loss')


def test_predict_runs_the_student_on_single_views():
    model = build()
    model.eval()
    inputs = torch.randn(3, 1, 8, 8)
    assert torch.equal(
        model(inputs, mode='tensor'), model.student(inputs, mode='tensor'))
    # The single-view validation batch goes through the multi-view
    # preprocessor unchanged; the student keeps a plain preprocessor.
    assert isinstance(model.data_preprocessor, MultiViewClsDataPreprocessor)
    assert type(model.student.data_preprocessor) is ClsDataPreprocessor


def test_missing_centre_tap_is_named():
    with pytest.raises(ValueError,
                       match=r"student_taps.centres: 'head.linear.weight'"
                       r'.*linear classifier'):
        build(
            student_taps=dict(
                feat='neck', centres='head.linear.weight',
                bias='head.fc.bias'))
    with pytest.raises(ValueError, match='must name a parameter'):
        build(student_taps=dict(feat='neck', centres='head.fc'))
    with pytest.raises(KeyError, match="must define 'feat'"):
        build(teacher_taps=dict(centres='head.fc.weight'))


def test_terms_can_be_switched_off_and_keys_are_checked():
    # The default is the released objective: no KD term.
    model = build()
    assert set(model.distill_losses) == {'cc', 'ca', 'fa'}
    inputs, samples = multi_view_batch(model, [0, 1])
    assert 'distill.loss_kd' not in model(inputs, samples, mode='loss')
    losses_cfg = dict(WITH_KD, fa=None)
    model = build(distill_losses=losses_cfg)
    losses = model(inputs, samples, mode='loss')
    assert 'distill.loss_fa' not in losses and 'distill.loss_kd' in losses
    with pytest.raises(KeyError, match=r"unknown keys \['kl'\]"):
        build(distill_losses=dict(kl=losses_cfg['cc']))


def test_defaults_are_merged_key_by_key():
    """A key not given keeps its default; a dict without a type is merged
    over the default entry (kd: over KD_LOSS); None switches a term off."""
    model = build(distill_losses=dict(cc=dict(loss_weight=0.1), fa=None),
                  preview=dict(final_threshold=3.31))
    assert set(model.distill_losses) == {'cc', 'ca'}
    cc = model.distill_losses['cc']
    assert (cc.loss_weight, cc.temperature, cc.base_temperature) == (
        0.1, 4.0, 0.07)
    assert model.distill_losses['ca'].loss_weight == 1.0
    model.preview.set_max_epochs(240)
    assert model.preview.final_threshold == 3.31
    assert model.preview.base == pytest.approx(1.005, abs=1e-5)
    model = build(distill_losses=dict(kd=dict(loss_weight=0.5)))
    assert set(model.distill_losses) == {'kd', 'cc', 'ca', 'fa'}
    kd = model.distill_losses['kd']
    assert (type(kd).__name__, kd.tau, kd.loss_weight) == ('KDLoss', 4.0,
                                                           0.5)
    with pytest.raises(ValueError, match='loss_weight'):
        build(distill_losses=dict(ca=dict(loss_weight=float('nan'))))


def test_align_connector_follows_the_fa_term():
    """g is the connector 's_align': built with L_FA, absent without it (a
    config for it is then ignored), required while L_FA is on."""
    model = build()
    align = model.connectors['s_align']
    assert [type(m).__name__ for m in align.proj] == [
        'Linear', 'BatchNorm1d', 'ReLU', 'Linear'
    ]
    assert (align.in_channels, align.hidden_channels,
            align.out_channels, align.norm) == (16, 16 * 16, 16, False)
    assert not any(True for _ in model.distill_losses.parameters())
    model = build(distill_losses=dict(pckd_setup.DEFAULT_LOSSES, fa=None))
    assert set(model.connectors) == {'s_embed', 't_embed'}
    embeds = {k: pckd_setup.DEFAULT_CONNECTORS[k]
              for k in ('s_embed', 't_embed')}
    model = build(connectors=embeds,
                  distill_losses=dict(pckd_setup.DEFAULT_LOSSES, fa=None))
    assert set(model.connectors) == {'s_embed', 't_embed'}
    model = build(connectors=embeds)  # s_align keeps its default
    assert model.connectors['s_align'].hidden_channels == 16 * 16
    with pytest.raises(KeyError, match=r"\['s_align'\] switched off"):
        build(connectors=dict(s_align=None))
    with pytest.raises(ValueError, match="connector 's_align' must map"):
        build(connectors=dict(
            embeds, s_align=dict(type='ProjectionHead', out_channels=8)))


@pytest.mark.parametrize('path', PCKD_CONFIGS, ids=osp.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = None
    assert cfg.data_preprocessor.type.endswith('MultiViewClsDataPreprocessor')
    train_types = [t['type'].split('.')[-1]
                   for t in cfg.train_dataloader.dataset.pipeline]
    assert 'RotationViews' in train_types
    assert 'RotationViews' not in [
        t['type'].split('.')[-1] for t in cfg.val_dataloader.dataset.pipeline
    ]
    model = build_in_scope(
        dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    assert isinstance(model, PCKDDistiller)
    losses = model.distill_losses
    # The released objective has no KD term; the "+kd" variants have
    # delta = 1, tau = 4.
    if '+kd' in osp.basename(path):
        assert (losses['kd'].loss_weight, losses['kd'].tau) == (1.0, 4.0)
    else:
        assert 'kd' not in losses
    assert losses['cc'].loss_weight == 0.05
    assert losses['fa'].loss_weight == 20.0
    assert (losses['cc'].temperature, losses['cc'].base_temperature) == \
        (4.0, 0.07)
    d_s = model.student.head.fc.in_features
    d_t = model.teacher.head.fc.in_features
    assert ('ca' in losses) == (d_s == d_t)
    if 'cifar100' in path:
        assert cfg.train_dataloader.batch_size == 64
        assert model.preview.base == 1.005
        assert model.preview.final_threshold is None
    else:
        assert model.preview.final_threshold == 3.31


@pytest.mark.parametrize('name, image, views', [
    ('pckd/pckd_resnet32x4_resnet8x4_1xb64_cifar100.py', (32, 32, 3),
     (4, 3, 32, 32)),
    ('pckd/pckd_resnet34_resnet18_8xb32_in1k.py', (60, 80, 3),
     (4, 3, 224, 224)),
    ('quickstart/pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py', (28, 28),
     (4, 1, 28, 28)),
])
def test_config_train_pipeline_gives_four_views(name, image, views):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    pipeline = [
        TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] != 'LoadImageFromFile'
    ]
    img = np.random.default_rng(0).integers(0, 256, image, dtype=np.uint8)
    results = dict(img=img, gt_label=3, img_shape=image[:2],
                   ori_shape=image[:2])
    for t in pipeline:
        results = t(results)
    assert tuple(results['inputs'].shape) == views
