"""``channels_last=True``: every method keeps the student's, the teacher's
and the connectors' 4-D weights and the networks' inputs in the
channels-last format, and computes the same losses and gradients as in
NCHW."""
import pytest
import torch
from step_helpers import METHOD_CONFIGS, build_method, sgd_wrapper

from mmkd_contrast.utils import set_debug_checks

CL = torch.channels_last


@pytest.fixture(autouse=True)
def no_debug_checks():
    set_debug_checks(False)
    yield
    set_debug_checks(None)


def conv_inputs(model):
    """Record the input of every convolution of both networks."""
    seen = []
    for net in (model.student, model.teacher):
        for module in net.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.register_forward_hook(
                    lambda m, args, out: seen.append(args[0]))
    return seen


@pytest.mark.parametrize('method', list(METHOD_CONFIGS))
def test_channels_last_gives_the_same_losses_and_gradients(method):
    _, data = build_method(method)
    results = []
    for channels_last in (False, True):
        model = build_method(method, with_data=False)
        model.channels_last = channels_last
        model.apply_memory_format()
        seen = conv_inputs(model)
        torch.manual_seed(1)  # CRD's negatives
        logs = model.train_step(data, sgd_wrapper(model, lr=0.))
        grads = {
            name: p.grad.clone()
            for name, p in model.named_parameters() if p.grad is not None
        }
        results.append((logs, grads))
        four_d = [p for p in model.parameters() if p.dim() == 4]
        assert four_d and seen
        if channels_last:
            assert all(p.is_contiguous(memory_format=CL) for p in four_d)
            assert all(
                x.is_contiguous(memory_format=CL) for x in seen
                if x.dim() == 4 and x.shape[-1] > 1), method
        else:
            assert not all(
                x.is_contiguous(memory_format=CL) for x in seen
                if x.dim() == 4 and x.shape[-1] > 1)
    (logs_a, grads_a), (logs_b, grads_b) = results
    assert logs_a.keys() == logs_b.keys()
    # Channels-last convolutions sum in another order: float32 rounding
    # moves the losses by up to about 1e-5 relative (measured: 1.1e-5 for
    # LFCC and PCKD), so the bound is the same-numbers bound of 1e-4.
    for key in logs_a:
        torch.testing.assert_close(logs_b[key], logs_a[key], rtol=1e-4,
                                   atol=1e-6, msg=f'{method} {key}')
    assert grads_a.keys() == grads_b.keys()
    for name in grads_a:
        torch.testing.assert_close(grads_b[name], grads_a[name], rtol=1e-4,
                                   atol=1e-5, msg=f'{method} {name}')


def test_channels_last_reaches_the_connectors():
    """LFCC's filters and projections are convolutions (3x3 ones too)."""
    model = build_method('LFCC', with_data=False)
    convs = [p for p in model.connectors.parameters() if p.dim() == 4]
    assert not all(p.is_contiguous(memory_format=CL) for p in convs)
    model.channels_last = True
    model.apply_memory_format()
    assert all(p.is_contiguous(memory_format=CL) for p in convs)


def test_channels_last_must_be_a_bool():
    from mmkd_contrast.models.distillers import SingleTeacherDistiller
    with pytest.raises(TypeError, match='model.channels_last'):
        SingleTeacherDistiller(student=None, teacher=None,
                               channels_last='yes')


def test_init_weights_gives_the_nchw_weights():
    """A random initialiser fills memory in order; the distiller
    initialises in NCHW, so one seed gives one set of weights."""
    weights = []
    for channels_last in (False, True):
        model = build_method('KD', with_data=False)
        model.channels_last = channels_last
        model.apply_memory_format()
        torch.manual_seed(3)
        model.init_weights()
        weights.append(model.student.state_dict())
        convs = [p for p in model.student.parameters() if p.dim() == 4]
        assert all(p.is_contiguous(memory_format=CL) for p in convs) \
            == channels_last
    for key, value in weights[0].items():
        assert torch.equal(weights[1][key], value), key
