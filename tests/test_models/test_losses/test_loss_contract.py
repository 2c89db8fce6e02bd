"""Every distillation loss in the registry follows BaseDistillLoss's contract:
declared inputs and hyper-parameters, checks at construction, loss_weight
applied to the returned scalar."""
import inspect
import math
import numbers

import pytest
import torch
import torch.nn.functional as F

import mmkd_contrast  # noqa: F401  registers modules
from mmkd_contrast.models.losses import BaseDistillLoss, HyperParam
from mmkd_contrast.registry import MODELS

#: Registered classes of the losses package that are not losses.
NOT_LOSSES = {'PreviewWeighting': 'per-sample weights of PCKD'}

#: Constructor arguments a loss cannot be built without.
REQUIRED_ARGS = {'CRDLoss': dict(num_samples=32, num_negatives=8)}


def _registered_losses():
    found = {}
    for name, cls in MODELS.module_dict.items():
        in_losses = cls.__module__.startswith('mmkd_contrast.models.losses')
        if (in_losses or name.endswith('Loss')) and name not in NOT_LOSSES:
            found[name] = cls
    return found


LOSSES = _registered_losses()


def _inputs(name, generator):
    """Inputs of one forward call of each loss (batch 8, 5 classes)."""
    r = lambda *shape: torch.randn(*shape, generator=generator)  # noqa: E731
    labels = torch.arange(8) % 5
    if name in ('KDLoss', 'DKDLoss'):
        return dict(s_logits=r(8, 5), t_logits=r(8, 5), labels=labels)
    if name == 'CRDLoss':
        return dict(s_emb=F.normalize(r(8, 128), dim=1),
                    t_emb=F.normalize(r(8, 128), dim=1),
                    sample_idx=torch.arange(8) * 3, labels=labels)
    if name == 'MSDCRDLoss':
        return dict(s_feat=r(8, 6, 4, 4), t_feat=r(8, 6, 4, 4))
    if name == 'LFCCLoss':
        return dict(s_emb=r(8, 16), t_emb=r(8, 16))
    if name == 'CategoryContrastLoss':
        return dict(s_scores=r(8, 5), t_scores=r(8, 5), labels=labels)
    if name == 'CentreAlignLoss':
        return dict(s_centres=r(5, 6), t_centres=r(5, 6))
    if name == 'FeatureAlignLoss':
        return dict(s_feat=r(8, 6), t_feat=r(8, 6))
    raise KeyError(f'{name}: add its inputs to this test')


def test_the_registry_holds_the_shipped_losses():
    assert {'KDLoss', 'DKDLoss', 'CRDLoss', 'MSDCRDLoss', 'LFCCLoss',
            'CategoryContrastLoss', 'CentreAlignLoss',
            'FeatureAlignLoss'} <= set(LOSSES)


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_declares_inputs_and_hyper_params(name):
    cls = LOSSES[name]
    assert issubclass(cls, BaseDistillLoss), \
        f'{name} is registered as a loss but is not a BaseDistillLoss'
    forward = [p for p in inspect.signature(cls.forward).parameters
               if p != 'self']
    assert list(cls.INPUTS) == forward, \
        f'{name}.INPUTS must declare exactly the forward arguments'
    for arg, spec in cls.INPUTS.items():
        assert spec.source in ('student', 'teacher', 'data', 'distiller'), \
            f'{name}.INPUTS[{arg!r}].source is {spec.source!r}'
        assert spec.shape.strip(), f'{name}.INPUTS[{arg!r}] has no shape'
    ctor = inspect.signature(cls.__init__).parameters
    assert 'loss_weight' in ctor and 'loss_weight' in cls.HYPER_PARAMS
    numeric = {
        arg for arg, p in ctor.items()
        if isinstance(p.default, numbers.Real)
        and not isinstance(p.default, bool)
    }
    undeclared = sorted(numeric - set(cls.HYPER_PARAMS))
    assert not undeclared, \
        f'{name}: numeric arguments {undeclared} are not in HYPER_PARAMS'
    assert set(cls.HYPER_PARAMS) <= set(ctor), \
        f'{name}.HYPER_PARAMS declares arguments the constructor lacks'
    assert all(isinstance(s, HyperParam) for s in cls.HYPER_PARAMS.values())
    assert isinstance(cls.min_samples_per_process, int) and \
        cls.min_samples_per_process >= 1
    loss = cls(**REQUIRED_ARGS.get(name, {}))
    assert set(loss.required_inputs()) <= set(forward)
    assert set(loss.needed_inputs()) <= set(forward)


def _bad_values(spec):
    """Values outside ``spec``, derived from the declaration."""
    bad = [float('nan'), float('inf'), float('-inf'), '1', True]
    if spec.low is not None:
        bad.append(spec.low if spec.low_open else spec.low - 1)
    if spec.high is not None:
        bad.append(spec.high if spec.high_open else spec.high + 1)
    if spec.integer:
        bad.append(2.5)
    if not spec.allow_none:
        bad.append(None)
    return bad


CASES = [(name, arg, value) for name in sorted(LOSSES)
         for arg, spec in LOSSES[name].HYPER_PARAMS.items()
         for value in _bad_values(spec)]


@pytest.mark.parametrize('name,arg,value', CASES)
def test_every_declared_hyper_param_is_checked_at_construction(
        name, arg, value):
    kwargs = dict(REQUIRED_ARGS.get(name, {}), **{arg: value})
    with pytest.raises(ValueError) as err:
        LOSSES[name](**kwargs)
    message = str(err.value)
    assert message.startswith(f'{name}: {arg} ') and repr(value) in message


#: The bad values of each loss, written out (the derived ones above follow
#: the declarations; these pin the declarations themselves).
BAD_VALUES = [
    ('KDLoss', 'tau', 0.0),
    ('KDLoss', 'tau', float('nan')),
    ('KDLoss', 'loss_weight', -1),
    ('KDLoss', 'ignore_index', 2.5),
    ('DKDLoss', 'alpha', -0.1),
    ('DKDLoss', 'beta', float('inf')),
    ('DKDLoss', 'temperature', 0),
    ('DKDLoss', 'loss_weight', float('nan')),
    ('DKDLoss', 'warmup_epochs', -1),
    ('CRDLoss', 'temperature', -0.07),
    ('CRDLoss', 'momentum', 1.5),
    ('CRDLoss', 'num_negatives', 0),
    ('CRDLoss', 'num_samples', 32.0),
    ('CRDLoss', 'feat_dim', 0),
    ('CRDLoss', 'loss_weight', float('-inf')),
    ('MSDCRDLoss', 'loss_weight', -0.5),
    ('MSDCRDLoss', 'temperature', float('nan')),
    ('MSDCRDLoss', 'sample_weight', -1.0),
    ('MSDCRDLoss', 'feature_weight', float('inf')),
    ('LFCCLoss', 'temperature', float('nan')),
    ('LFCCLoss', 'loss_weight', float('inf')),
    ('CategoryContrastLoss', 'temperature', float('nan')),
    ('CategoryContrastLoss', 'base_temperature', 0.0),
    ('CategoryContrastLoss', 'loss_weight', -0.05),
    ('CentreAlignLoss', 'loss_weight', float('nan')),
    ('FeatureAlignLoss', 'loss_weight', -20.0),
]


def test_the_table_covers_every_loss():
    assert {name for name, _, _ in BAD_VALUES} == set(LOSSES)


@pytest.mark.parametrize('name,arg,value', BAD_VALUES)
def test_bad_value_table(name, arg, value):
    kwargs = dict(REQUIRED_ARGS.get(name, {}), **{arg: value})
    with pytest.raises(ValueError,
                       match=f'^{name}: {arg} must be .*got {value!r}$'):
        LOSSES[name](**kwargs)


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_zero_loss_weight_builds_and_weight_scales_the_result(name):
    values = []
    for loss_weight in (1.0, 2.5, 0.0):
        torch.manual_seed(0)
        loss = LOSSES[name](
            **REQUIRED_ARGS.get(name, {}), loss_weight=loss_weight)
        inputs = _inputs(name, torch.Generator().manual_seed(1))
        inputs = {k: v for k, v in inputs.items()
                  if k in inspect.signature(loss.forward).parameters}
        out = loss(**inputs)
        assert out.shape == () and torch.isfinite(out)
        values.append(float(out))
    assert values[0] != 0
    assert math.isclose(values[1], 2.5 * values[0], rel_tol=1e-5)
    assert values[2] == 0
