"""bf16 autocast on the CPU: every method trains, its losses stay finite
and close to fp32 on the same batch, and the contrastive parts stay fp32."""
import pytest
import torch
from step_helpers import METHOD_CONFIGS, build_method, build_model

from mmkd_contrast.engine.optimizers import AutocastOptimWrapper
from mmkd_contrast.registry import OPTIM_WRAPPERS


def wrapper(model, **kwargs):
    params = [p for p in model.parameters() if p.requires_grad]
    return AutocastOptimWrapper(
        optimizer=torch.optim.SGD(params, lr=0.01), **kwargs)


def test_wrapper_autocasts_to_bf16_without_a_scaler():
    layer = torch.nn.Linear(4, 4)
    optim = OPTIM_WRAPPERS.build(
        dict(type='mmkd_contrast.AutocastOptimWrapper',
             optimizer=torch.optim.SGD(layer.parameters(), lr=0.1)))
    assert optim.device_type == 'cpu' and optim.cast_dtype == torch.bfloat16
    assert not hasattr(optim, 'loss_scaler')
    with optim.optim_context(layer):
        out = layer(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    assert layer(torch.randn(2, 4)).dtype == torch.float32  # outside
    with pytest.raises(ValueError, match='fp16 needs loss scaling'):
        AutocastOptimWrapper(
            dtype='float16',
            optimizer=torch.optim.SGD(layer.parameters(), lr=0.1))


def losses_of(model, data, optim=None):
    """The step's loss terms (no update), under ``optim``'s context."""
    with torch.no_grad():
        if optim is None:
            batch = model.data_preprocessor(data, True)
            return model(**batch, mode='loss')
        with optim.optim_context(model):
            batch = model.data_preprocessor(data, True)
            return model(**batch, mode='loss')


@pytest.mark.parametrize('method', list(METHOD_CONFIGS))
def test_bf16_losses_are_finite_fp32_and_close_to_fp32(method):
    fp32_model, data = build_method(method)
    bf16_model = build_model(method)  # same seed: the same weights
    fp32 = losses_of(fp32_model, data)
    bf16 = losses_of(bf16_model, data, wrapper(bf16_model))
    assert fp32.keys() == bf16.keys()
    distill = [k for k in fp32 if k.startswith('distill.loss')]
    assert distill, method
    for key in fp32:
        a, b = fp32[key], bf16[key]
        assert torch.isfinite(b), (method, key)
        if key in distill:
            # The distillation terms come out of fp32 arithmetic.
            assert b.dtype == torch.float32, (method, key, b.dtype)
        tolerance = 0.01 * a.abs().item() + 0.01
        assert abs(a.item() - b.item()) <= tolerance, (method, key, a, b)


@pytest.mark.parametrize('method', list(METHOD_CONFIGS))
def test_bf16_training_steps_stay_finite(method):
    model, data = build_method(method)
    optim = wrapper(model)
    for _ in range(2):
        log_vars = model.train_step(data, optim)
    assert all(torch.isfinite(v) for v in log_vars.values()), log_vars
    assert all(torch.isfinite(p).all() for p in model.parameters())
