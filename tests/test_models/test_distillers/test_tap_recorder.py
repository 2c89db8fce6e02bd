"""TapRecorder: records only inside ``recording()``, is cleared after a
loss step, and gives live parameters."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmkd_contrast.models import BaseDistiller, SingleTeacherDistiller
from mmkd_contrast.models.recorders import TapRecorder
from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
KD_CFG = osp.join(ROOT, 'configs', 'quickstart',
                  'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def build(**overrides):
    """The quickstart KD distiller, teacher unloaded."""
    cfg = Config.fromfile(KD_CFG)
    model = dict(cfg.model, teacher_ckpt=None,
                 data_preprocessor=cfg.data_preprocessor, **overrides)
    torch.manual_seed(0)
    return build_in_scope(model)


def batch(n=4):
    inputs = torch.randn(n, 1, 28, 28)
    samples = [DataSample().set_gt_label(i % 10) for i in range(n)]
    return inputs, samples


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_forward_outside_recording_records_nothing():
    net = tiny()
    taps = TapRecorder(net, dict(hidden='0', w='2.weight'), 'student')
    net(torch.randn(5, 3))
    assert taps.outputs == {}
    with pytest.raises(RuntimeError, match="tap 'hidden'.*recorded nothing"):
        taps.get('hidden')
    with taps.recording():
        net(torch.randn(5, 3))
    assert taps.get('hidden').shape == (5, 4)
    # Outputs stay until cleared; later unrecorded forwards add nothing.
    kept = taps.get('hidden')
    net(torch.randn(7, 3))
    assert taps.get('hidden') is kept
    taps.clear()
    assert taps.outputs == {}


def test_parameter_tap_is_live_after_load_state_dict_and_to():
    net = tiny()
    taps = TapRecorder(net, dict(w='2.weight', b='2.bias'), 'student')
    state = {k: torch.full_like(v, 0.5) for k, v in net.state_dict().items()}
    # assign=True replaces the Parameter objects themselves.
    net.load_state_dict(state, assign=True)
    assert taps.get('w') is net[2].weight
    assert torch.equal(taps.get('w'), torch.full((2, 4), 0.5))
    net.to(torch.float64)
    assert taps.get('b') is net[2].bias and taps.get('b').dtype == \
        torch.float64
    overwrite = torch.__future__.get_overwrite_module_params_on_conversion()
    torch.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        net.to(torch.float32)
    finally:
        torch.__future__.set_overwrite_module_params_on_conversion(overwrite)
    assert taps.get('w') is net[2].weight and taps.get('w').dtype == \
        torch.float32


def test_missing_path_error_carries_the_tap_hint():
    with pytest.raises(ValueError, match=r"student_taps.w: '2.wait'.*"
                       r'Closest existing paths.*Point w at a weight\.'):
        TapRecorder(tiny(), dict(w='2.wait'), 'student',
                    hints=dict(w='Point w at a weight.'))


def test_predict_records_nothing_and_loss_outputs_are_cleared():
    model = build(student_taps=dict(logits='head.fc', feat='neck'))
    assert isinstance(model, BaseDistiller)
    inputs, samples = batch()
    model.eval()
    model(inputs, samples, mode='predict')
    model(inputs, mode='tensor')
    assert model.student_taps.outputs == {}
    assert model.teacher_taps.outputs == {}
    model.train()
    losses = model(inputs, samples, mode='loss')
    assert 'distill.loss_kd' in losses
    assert model.student_taps.outputs == {}
    assert model.teacher_taps.outputs == {}


def test_outputs_are_cleared_when_a_loss_fails(monkeypatch):
    model = build()
    inputs, samples = batch()

    def fail(self, data_samples):
        raise ValueError('boom')

    monkeypatch.setattr(SingleTeacherDistiller, 'compute_distill_losses',
                        fail)
    with pytest.raises(ValueError, match='boom'):
        model(inputs, samples, mode='loss')
    assert model.student_taps.outputs == {}
    assert model.teacher_taps.outputs == {}


def test_compiled_code_shared_by_a_tapped_and_an_untapped_twin():
    """Dynamo reuses a graph traced for one module on another of the same
    structure without checking hooks unless told to: a recorder turns the
    check on, so the tapped twin's hook runs."""
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    tapped = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    recorder = TapRecorder(tapped, dict(hidden='1'), 'student')
    assert not torch._dynamo.config.skip_nnmodule_hook_guards
    torch._dynamo.reset()
    run = torch.compile(lambda net, x: net(x), backend='eager')
    x = torch.randn(3, 4)
    run(plain, x)  # traced first, without a hook
    with recorder.recording():
        run(tapped, x)
    assert torch.equal(recorder.outputs['hidden'], tapped[1](tapped[0](x)))
