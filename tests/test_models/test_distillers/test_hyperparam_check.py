import pytest

from mmkd_contrast.models.distillers.hyperparam_check import \
    check_hyperparams
from test_single_teacher_distiller import build


@pytest.mark.parametrize('key,value,expected', [
    ('tau', float('nan'), 'model.distill_losses.kd.tau is nan'),
    ('tau', float('inf'), 'model.distill_losses.kd.tau is inf'),
    ('tau', -4.0, 'a temperature must be positive'),
    ('tau', 0.0, 'a temperature must be positive'),
    ('loss_weight', float('nan'), 'model.distill_losses.kd.loss_weight is'),
    ('loss_weight', float('-inf'), 'must be a finite number'),
    ('loss_weight', -0.5, 'a loss weight must be >= 0'),
])
def test_distiller_refuses_bad_values_at_build(key, value, expected):
    losses = dict(kd=dict(type='KDLoss', tau=4.0, loss_weight=1.0))
    losses['kd'][key] = value
    with pytest.raises(ValueError, match=expected.replace('(', r'\(')):
        build(distill_losses=losses)


def test_zero_loss_weight_stays_allowed():
    build(distill_losses=dict(kd=dict(type='KDLoss', loss_weight=0)))


def test_nested_and_connector_values_are_named():
    with pytest.raises(ValueError, match=r'model.x.msd.scales\[1\] is nan'):
        check_hyperparams(dict(msd=dict(scales=(1, float('nan')))),
                          'model.x')
    with pytest.raises(ValueError, match='sample_weight is -1'):
        check_hyperparams(dict(msd=dict(sample_weight=-1)), 'model.x')
    with pytest.raises(ValueError, match='base_temperature is 0'):
        check_hyperparams(dict(cc=dict(base_temperature=0)), 'm')
    check_hyperparams(dict(msd=dict(scales=(1, 2), symmetric=True)), 'm')


def test_pckd_refuses_a_nan_loss_weight():
    from mmkd_contrast.models import PCKDDistiller
    with pytest.raises(ValueError, match='model.distill_losses.cc.'
                       'temperature is nan'):
        PCKDDistiller(
            student=None, teacher=None,
            distill_losses=dict(cc=dict(type='CategoryContrastLoss',
                                        temperature=float('nan'))))
    with pytest.raises(ValueError, match='model.preview.base is inf'):
        PCKDDistiller(student=None, teacher=None,
                      preview=dict(type='PreviewWeighting',
                                   base=float('inf')))
