"""LFCC end to end through SingleTeacherDistiller: wiring, gradients,
initialisation, bad inputs, every LFCC config, and a one-epoch run."""
import glob
import logging
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.structures import DataSample

import mmkd_contrast  # noqa: F401
from mmkd_contrast.models import (CompactProjector, LearnableLowPassFilter,
                                  LowPassFilter)
from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart',
                      'lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py')
VIT_TEACHER = osp.join(ROOT, 'configs', 'quickstart',
                       'teacher_vit-tiny_1xb64_mnist5k.py')
LFCC_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'lfcc', '*.py')))
STAGES = ('stage3', 'stage4')


@pytest.fixture(scope='session')
def vit_teacher_ckpt(tmp_path_factory):
    """A checkpoint of the quickstart ViT teacher (random weights, saved the
    way mmengine saves them)."""
    cfg = Config.fromfile(VIT_TEACHER)
    torch.manual_seed(0)
    teacher = build_in_scope(cfg.model)
    path = tmp_path_factory.mktemp('vit_teacher') / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict(epoch=0)),
               path)
    return str(path)


def quiet_build(model_cfg):
    """Build a distiller config; the 'no teacher_ckpt' warning is expected
    in these tests."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return build_in_scope(model_cfg)
    finally:
        logger.setLevel(level)


def build_quickstart(**connector_edits):
    """The quickstart LFCC distiller (tiny ViT -> ResNet-18 w4), teacher
    weights random. ``connector_edits`` maps 'connector.step' to keyword
    overrides of that step, e.g. ``{'t_stage3.0': dict(num_extra_tokens=0)}``.
    """
    cfg = Config.fromfile(QUICKSTART)
    cfg.model.teacher_ckpt = None
    for where, overrides in connector_edits.items():
        name, step = where.split('.')
        cfg.model.connectors[name].connectors[int(step)].update(overrides)
    torch.manual_seed(0)
    return quiet_build(cfg.model).train()


def make_batch(batch_size=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 1, 28, 28, generator=gen)
    labels = torch.randint(0, 10, (batch_size, ), generator=gen)
    return inputs, [DataSample().set_gt_label(int(y)) for y in labels]


def capture(module, model_call):
    """Output of ``module`` during ``model_call()``."""
    seen = []
    handle = module.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        model_call()
    finally:
        handle.remove()
    return seen[-1]


def reference_contrast(s_emb, t_emb, tau):
    """Symmetric sample-level contrast (docs/lfcc.md, "The formulas"), by
    loops."""

    def unit(rows):
        out = []
        for row in rows.tolist():
            norm = math.sqrt(sum(a * a for a in row))
            out.append([a / norm for a in row])
        return out

    s_emb, t_emb = unit(s_emb), unit(t_emb)

    def one_direction(anchors, keys):
        total = 0.0
        for i, a in enumerate(anchors):
            scores = [sum(x * y for x, y in zip(a, k)) / tau for k in keys]
            total -= scores[i] - math.log(sum(math.exp(s) for s in scores))
        return total / len(anchors)

    return 0.5 * (one_direction(s_emb, t_emb) + one_direction(t_emb, s_emb))


def reference_kd(student_logits, teacher_logits, tau):
    """tau^2 * mean_i KL(softmax(t_i / tau) || softmax(s_i / tau)), loops."""
    total = 0.0
    for s_row, t_row in zip(student_logits.tolist(), teacher_logits.tolist()):
        s_norm = math.log(sum(math.exp(v / tau) for v in s_row))
        t_norm = math.log(sum(math.exp(v / tau) for v in t_row))
        for s, t in zip(s_row, t_row):
            log_p_t = t / tau - t_norm
            total += math.exp(log_p_t) * (log_p_t - (s / tau - s_norm))
    return tau**2 * total / len(student_logits)


def test_total_objective_matches_a_hand_written_reference():
    model = build_quickstart()
    inputs, data_samples = make_batch()
    losses = model(inputs, data_samples, mode='loss')
    assert set(losses) == {
        'student.loss', 'distill.loss_kd', 'distill.loss_lfcc_stage3',
        'distill.loss_lfcc_stage4'
    }

    # Recompute every term from separate forwards (BN in training mode
    # normalises with batch statistics, so a second forward is identical).
    student, teacher = model.student, model.teacher
    with torch.no_grad():
        t_feats = {
            'stage3': capture(teacher.backbone.layers[1],
                              lambda: teacher(inputs, mode='tensor')),
            'stage4': capture(teacher.backbone.layers[3],
                              lambda: teacher(inputs, mode='tensor')),
        }
        t_logits = teacher(inputs, mode='tensor')
    s_feats = {
        'stage3': capture(student.backbone.layer3,
                          lambda: student(inputs, mode='tensor')),
        'stage4': capture(student.backbone.layer4,
                          lambda: student(inputs, mode='tensor')),
    }
    s_logits = student(inputs, mode='tensor')
    labels = torch.tensor([int(ds.gt_label) for ds in data_samples])

    torch.testing.assert_close(losses['student.loss'],
                               F.cross_entropy(s_logits, labels))
    assert losses['distill.loss_kd'].item() == pytest.approx(
        reference_kd(s_logits, t_logits, tau=4.0), rel=1e-4)
    for stage in STAGES:
        # Teacher path by hand: drop the class token, 4x4 map, fixed
        # filter, the teacher-side projector.
        tokens = t_feats[stage]
        t_map = tokens[:, 1:].reshape(4, 4, 4, 64).permute(0, 3, 1, 2)
        t_emb = model.connectors[f't_stage{stage[-1]}'][2](
            LowPassFilter((2, 4))(t_map))
        s_chain = model.connectors[f's_stage{stage[-1]}']
        s_emb = s_chain[1](s_chain[0](s_feats[stage]))
        expected = reference_contrast(s_emb, t_emb, tau=0.1)
        assert losses[f'distill.loss_lfcc_{stage}'].item() == pytest.approx(
            expected, rel=1e-4)
    assert model.distill_losses.kd.tau == 4.0
    assert model.distill_losses.kd.loss_weight == 1.0
    for stage in STAGES:
        loss = model.distill_losses[f'lfcc_{stage}']
        assert (loss.temperature, loss.symmetric, loss.loss_weight) == (
            0.1, True, 1.0)


def test_gradients_reach_student_filters_and_both_projectors_not_teacher():
    model = build_quickstart()
    inputs, data_samples = make_batch()
    losses = model(inputs, data_samples, mode='loss')
    sum(losses.values()).backward()

    assert model.student.backbone.conv1.weight.grad.abs().sum() > 0
    for stage in STAGES:
        s_filter, s_proj = model.connectors[f's_{stage}']
        t_proj = model.connectors[f't_{stage}'][2]
        assert isinstance(s_filter, LearnableLowPassFilter)
        assert isinstance(s_proj, CompactProjector)
        assert isinstance(t_proj, CompactProjector)
        for module in (s_filter, s_proj, t_proj):
            for name, param in module.named_parameters():
                assert param.grad is not None, (stage, name)
                assert param.grad.abs().sum() > 0, (stage, name)
    for name, param in model.teacher.named_parameters():
        assert not param.requires_grad, name
        assert param.grad is None, name


def test_one_stage_contrast_reaches_the_student_up_to_its_tap_only():
    model = build_quickstart()
    inputs, data_samples = make_batch()
    model(inputs, data_samples, mode='loss')['distill.loss_lfcc_stage3'] \
        .backward()
    backbone = model.student.backbone
    assert backbone.layer3[0].conv1.weight.grad.abs().sum() > 0
    assert backbone.conv1.weight.grad.abs().sum() > 0
    # Layers after the tapped one and the other stage's path: no gradient.
    assert backbone.layer4[0].conv1.weight.grad is None
    assert model.student.head.fc.weight.grad is None
    assert model.connectors.s_stage4[0].conv.weight.grad is None
    assert model.connectors.t_stage4[2].proj[0].weight.grad is None


def test_init_weights_keeps_the_low_pass_start():
    model = build_quickstart()
    # Perturb the student network so that init_weights() is seen to act.
    with torch.no_grad():
        model.student.head.fc.weight.fill_(7.0)
    model.init_weights()
    assert not (model.student.head.fc.weight == 7.0).all()
    x = {'stage3': torch.randn(2, 16, 7, 7),
         'stage4': torch.randn(2, 32, 4, 4)}
    for stage in STAGES:
        learnable = model.connectors[f's_{stage}'][0]
        torch.testing.assert_close(
            learnable(x[stage]),
            LowPassFilter((2, 4))(x[stage]),
            rtol=0,
            atol=1e-5)


def test_teacher_tokens_that_cannot_form_a_map_name_the_tap_and_n():
    # Forgetting the class token: 1 + 16 tokens is not a square.
    model = build_quickstart(**{'t_stage3.0': dict(num_extra_tokens=0)})
    inputs, data_samples = make_batch()
    with pytest.raises(ValueError) as info:
        model(inputs, data_samples, mode='loss')
    message = str(info.value)
    assert "tap 'teacher.stage3'" in message
    assert 'N=17' in message
    assert 'TokenToMap' in message


@pytest.mark.parametrize('where,tap,size', [
    ('s_stage4.0', 'student.stage4', '4x4'),
    ('t_stage3.1', 'teacher.stage3', '4x4'),
])
def test_kernel_larger_than_the_map_names_both(where, tap, size):
    model = build_quickstart(**{where: dict(kernel_sizes=(2, 8))})
    inputs, data_samples = make_batch()
    with pytest.raises(ValueError) as info:
        model(inputs, data_samples, mode='loss')
    message = str(info.value)
    assert f"tap '{tap}'" in message
    assert 'kernel size 8' in message
    assert f'map size {size}' in message


def test_a_batch_of_one_image_is_a_clear_error():
    model = build_quickstart()
    inputs, data_samples = make_batch(batch_size=1)
    with pytest.raises(ValueError) as info:
        model(inputs, data_samples, mode='loss')
    message = str(info.value)
    assert "distill loss 'lfcc_stage3'" in message
    assert 'at least 2 images' in message


@pytest.mark.parametrize(
    'config', LFCC_CONFIGS, ids=[osp.basename(f) for f in LFCC_CONFIGS])
def test_every_lfcc_config_builds_and_wires_both_paths(config):
    """Build the config, then run both networks and every connector on the
    meta device (shapes only, no arithmetic): the taps exist, tokens form
    maps, channels and kernel sizes fit, and both sides of each stage reach
    the same compact size."""
    cfg = Config.fromfile(config)
    cfg.model.teacher_ckpt = None
    model = quiet_build(cfg.model).to('meta')
    assert {'kd', 'lfcc_stage3', 'lfcc_stage4'} <= set(model.distill_losses)
    x = torch.empty(2, 3, 224, 224, device='meta')
    with model.student_taps.recording(), model.teacher_taps.recording():
        t_logits = model.teacher(x, mode='tensor')
        s_logits = model.student(x, mode='tensor')
    assert t_logits.shape == s_logits.shape
    for stage in STAGES:
        z = {}
        chains = {}
        for arg, source in cfg.model.loss_inputs[f'lfcc_{stage}'].items():
            role, tap = source['tap'].split('.')
            chains[arg] = model.connectors[source['connector']]
            z[arg] = chains[arg](getattr(model, f'{role}_taps').get(tap))
        assert z['s_emb'].shape == z['t_emb'].shape == (2, 256 * 2 * 2)
        assert isinstance(chains['s_emb'][-2], LearnableLowPassFilter)
        assert type(chains['t_emb'][-2]) is LowPassFilter
        assert isinstance(chains['s_emb'][-1], CompactProjector)
        assert isinstance(chains['t_emb'][-1], CompactProjector)


def test_quickstart_config_builds_and_the_vit_teacher_loads(
        vit_teacher_ckpt):
    cfg = Config.fromfile(QUICKSTART)
    cfg.model.teacher_ckpt = vit_teacher_ckpt
    model = quiet_build(cfg.model)
    state = torch.load(vit_teacher_ckpt, weights_only=True)['state_dict']
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_one_epoch_quickstart_run(tmp_path, vit_teacher_ckpt):
    from tool_helpers import last_scalars, train
    train(QUICKSTART, tmp_path, f'model.teacher_ckpt={vit_teacher_ckpt}')
    assert osp.isfile(osp.join(tmp_path, 'epoch_1.pth'))
    records = last_scalars(tmp_path)
    for stage in STAGES:
        values = [
            r[f'distill.loss_lfcc_{stage}'] for r in records
            if f'distill.loss_lfcc_{stage}' in r
        ]
        assert values, f'distill.loss_lfcc_{stage} was not logged'
        assert all(math.isfinite(v) and v > 0 for v in values)
    assert any('accuracy/top1' in r for r in records)
