import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from mmpretrain.structures import DataSample

from mmkd_contrast.models import (ChannelAligner, KDLoss, MSDCRDLoss,
                                  SingleTeacherDistiller)
from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
KD_CFG = osp.join(ROOT, 'configs', 'quickstart',
                  'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def kd_model_cfg(**overrides):
    cfg = Config.fromfile(KD_CFG)
    model = cfg.model
    model.teacher_ckpt = None
    model.data_preprocessor = cfg.data_preprocessor
    for key, value in overrides.items():
        model[key] = value  # replace, do not merge into the config's dict
    return model


def batch(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 1, 28, 28, generator=g)
    samples = [
        DataSample(metainfo=dict(sample_idx=i)).set_gt_label(i % 10)
        for i in range(n)
    ]
    return inputs, samples


def build(**overrides):
    torch.manual_seed(0)
    return build_in_scope(kd_model_cfg(**overrides))


def test_loss_keys_and_student_only_modes():
    model = build()
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'student.loss', 'distill.loss_kd'}
    assert all(torch.isfinite(v) for v in losses.values())
    # predict / tensor run the student alone.
    model.eval()
    expected = model.student(inputs, mode='tensor')
    assert torch.equal(model(inputs, mode='tensor'), expected)
    preds = model(inputs, samples, mode='predict')
    assert torch.allclose(preds[0].pred_score,
                          F.softmax(expected[0], dim=0), atol=1e-6)


def test_kd_value_is_the_formula_on_the_tapped_logits():
    model = build()
    model.eval()  # BN in eval so that a second forward gives the same logits
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    s = model.student(inputs, mode='tensor')
    t = model.teacher(inputs, mode='tensor')
    assert torch.allclose(losses['distill.loss_kd'], KDLoss()(s, t),
                          atol=1e-6)


def test_teacher_frozen_and_in_eval_after_train():
    model = build()
    model.train()
    assert model.training and model.student.training
    assert not model.teacher.training
    assert all(not m.training for m in model.teacher.modules())
    assert all(not p.requires_grad for p in model.teacher.parameters())


def test_gradient_routing_student_and_connectors_not_teacher():
    model = build(
        student_taps=dict(logits='head.fc', feat='neck'),
        teacher_taps=dict(logits='head.fc', feat='neck'),
        connectors=dict(
            s_embed=dict(type='ProjectionHead', in_channels=32,
                         out_channels=16),
            t_embed=dict(type='ProjectionHead', in_channels=128,
                         out_channels=16)),
        distill_losses=dict(
            kd=dict(type='KDLoss'),
            crd=dict(type='CRDLoss', num_samples=64, feat_dim=16,
                     num_negatives=8)),
        loss_inputs=dict(
            kd=dict(s_logits='student.logits', t_logits='teacher.logits'),
            crd=dict(
                s_emb=dict(tap='student.feat', connector='s_embed'),
                t_emb=dict(tap='teacher.feat', connector='t_embed'),
                sample_idx='data.sample_idx')))
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    sum(losses.values()).backward()
    for name, p in model.student.named_parameters():
        assert p.grad is not None, name
    for name, p in model.connectors.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for name, p in model.teacher.named_parameters():
        assert p.grad is None, name
    # The teacher's taps are recorded without autograd history.
    model.run_teacher(inputs, samples)
    assert not model.teacher_taps.get('feat').requires_grad


def test_teacher_ckpt_is_loaded_and_survives_init_weights(
        quickstart_teacher_ckpt):
    model = build(teacher_ckpt=quickstart_teacher_ckpt)
    saved = torch.load(quickstart_teacher_ckpt)['state_dict']
    model.init_weights()
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_teacher_ckpt_missing_file(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build(teacher_ckpt=missing)


def test_teacher_ckpt_with_wrong_keys_lists_them(tmp_path,
                                                 quickstart_teacher_ckpt):
    state = torch.load(quickstart_teacher_ckpt)['state_dict']
    state.pop('head.fc.bias')
    state['head.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=state), path)
    with pytest.raises(KeyError) as err:
        build(teacher_ckpt=str(path))
    message = str(err.value)
    assert 'head.fc.bias' in message and 'head.extra.weight' in message
    assert 'missing' in message and 'unexpected' in message


def test_unknown_tap_path_lists_close_matches():
    with pytest.raises(ValueError) as err:
        build(student_taps=dict(logits='head.fcc'))
    assert "'head.fcc'" in str(err.value) and 'head.fc' in str(err.value)


def test_parameter_tap_records_live_parameter():
    model = build(student_taps=dict(logits='head.fc', w='head.fc.weight'))
    assert model.student_taps.get('w') is model.student.head.fc.weight


def test_loss_argument_without_tap_names_loss_and_argument():
    with pytest.raises(KeyError, match=r"'kd'.*'t_logits'"):
        build(loss_inputs=dict(kd=dict(s_logits='student.logits')))


def test_mapping_to_missing_tap_names_loss_and_argument():
    with pytest.raises(KeyError, match=r"'kd'.*'t_logits'.*teacher.nope"):
        build(loss_inputs=dict(
            kd=dict(s_logits='student.logits', t_logits='teacher.nope')))


def test_unknown_connector_and_unknown_argument():
    with pytest.raises(KeyError, match='proj'):
        build(loss_inputs=dict(
            kd=dict(s_logits=dict(tap='student.logits', connector='proj'),
                    t_logits='teacher.logits')))
    with pytest.raises(KeyError, match='nonsense'):
        build(loss_inputs=dict(
            kd=dict(s_logits='student.logits', t_logits='teacher.logits',
                    nonsense='student.logits')))


def test_shape_mismatch_at_first_batch_names_everything():
    model = build(
        teacher_taps=dict(logits='head.fc', feat='neck'),
        connectors=dict(t_proj=dict(type='ProjectionHead', in_channels=128,
                                    out_channels=12)),
        loss_inputs=dict(
            kd=dict(s_logits='student.logits',
                    t_logits=dict(tap='teacher.feat', connector='t_proj'))))
    inputs, samples = batch()
    with pytest.raises(ValueError) as err:
        model(inputs, samples, mode='loss')
    message = str(err.value)
    for part in ("'kd'", 'KDLoss', "tap 'student.logits'",
                 "tap 'teacher.feat'", "connector 't_proj'", '(4, 10)',
                 '(4, 12)'):
        assert part in message, (part, message)


def test_connector_failure_names_connector_tap_and_shape():
    model = build(
        teacher_taps=dict(logits='head.fc', feat='neck'),
        connectors=dict(t_proj=dict(type='ProjectionHead', in_channels=64,
                                    out_channels=10)),
        loss_inputs=dict(
            kd=dict(s_logits='student.logits',
                    t_logits=dict(tap='teacher.feat', connector='t_proj'))))
    inputs, samples = batch()
    with pytest.raises(ValueError) as err:
        model(inputs, samples, mode='loss')
    message = str(err.value)
    assert "connector 't_proj'" in message and "teacher.feat" in message
    assert '(4, 128)' in message


# --------------------------------------------------------------------------
# Any mmengine BaseModel works: a small dense-prediction model.
class TinySegmenter(BaseModel):
    """Per-pixel classifier: two conv layers, logits at full resolution."""

    def __init__(self, width, num_classes=3):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.decoder = nn.Conv2d(width, num_classes, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logits = self.decoder(self.encoder(inputs))
        if mode == 'loss':
            target = torch.stack([ds.gt_seg for ds in data_samples])
            return dict(loss_seg=F.cross_entropy(logits, target))
        if mode == 'predict':
            return logits.argmax(dim=1)
        return logits


def test_distils_a_dense_prediction_model():
    torch.manual_seed(0)
    teacher = TinySegmenter(width=16)
    model = SingleTeacherDistiller(
        student=TinySegmenter(width=4),
        teacher=teacher,
        student_taps=dict(feat='encoder'),
        teacher_taps=dict(feat='encoder'),
        connectors=dict(align=ChannelAligner(4, 16)),
        distill_losses=dict(msd=MSDCRDLoss(scales=(1, 2))),
        loss_inputs=dict(
            msd=dict(s_feat=dict(tap='student.feat', connector='align'),
                     t_feat='teacher.feat')))
    inputs = torch.randn(4, 3, 8, 8)
    samples = [
        BaseDataElement(gt_seg=torch.randint(0, 3, (8, 8)))
        for _ in range(4)
    ]
    teacher_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student_before = {
        k: v.clone()
        for k, v in model.student.state_dict().items()
    }
    optim = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(3):
        losses = model(inputs, samples, mode='loss')
        assert set(losses) == {'student.loss_seg', 'distill.loss_msd'}
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    assert model(inputs, mode='predict').shape == (4, 8, 8)
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    assert any(not torch.equal(v, student_before[k])
               for k, v in model.student.state_dict().items())


def crd_overrides(neg_sampling, labels):
    crd_inputs = dict(
        s_emb=dict(tap='student.feat', connector='s_embed'),
        t_emb=dict(tap='teacher.feat', connector='t_embed'),
        sample_idx='data.sample_idx')
    if labels:
        crd_inputs['labels'] = 'data.gt_label'
    return dict(
        student_taps=dict(feat='neck'),
        teacher_taps=dict(feat='neck'),
        connectors=dict(
            s_embed=dict(type='ProjectionHead', in_channels=32,
                         out_channels=16),
            t_embed=dict(type='ProjectionHead', in_channels=128,
                         out_channels=16)),
        distill_losses=dict(
            crd=dict(type='CRDLoss', num_samples=64, feat_dim=16,
                     num_negatives=8, neg_sampling=neg_sampling)),
        loss_inputs=dict(crd=crd_inputs))


def test_class_aware_crd_without_labels_fails_at_build():
    with pytest.raises(KeyError) as err:
        build(**crd_overrides('other_class', labels=False))
    message = str(err.value)
    assert "'crd'" in message and 'CRDLoss' in message
    assert "neg_sampling='other_class'" in message
    assert "labels='data.gt_label'" in message
    assert 'loss_inputs.crd' in message
    # Uniform sampling needs no labels; with the labels wired the
    # class-aware loss builds, trains and stores the batch's labels.
    build(**crd_overrides('random', labels=False))
    model = build(**crd_overrides('other_class', labels=True))
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(losses['distill.loss_crd'])
    assert model.distill_losses.crd.bank.memory_labels[:4].tolist() == [
        0, 1, 2, 3]
