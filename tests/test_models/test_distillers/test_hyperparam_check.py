import re

import pytest

from mmkd_contrast.models.distillers.hyperparam_check import \
    check_hyperparams
from test_single_teacher_distiller import build


@pytest.mark.parametrize('key,value,expected', [
    ('tau', float('nan'), 'model.distill_losses.kd.tau is nan'),
    ('tau', float('inf'), 'model.distill_losses.kd.tau is inf'),
    ('tau', -4.0, 'kd.tau is -4.0: KDLoss.tau (a temperature) must be a '
     'finite number > 0'),
    ('tau', 0.0, 'KDLoss.tau (a temperature) must be a finite number > 0'),
    ('loss_weight', float('nan'), 'model.distill_losses.kd.loss_weight is'),
    ('loss_weight', float('-inf'), 'must be a finite number'),
    ('loss_weight', -0.5, 'KDLoss.loss_weight (a weight) must be a finite '
     'number >= 0'),
])
def test_distiller_refuses_bad_values_at_build(key, value, expected):
    losses = dict(kd=dict(type='KDLoss', tau=4.0, loss_weight=1.0))
    losses['kd'][key] = value
    with pytest.raises(ValueError, match=re.escape(expected)):
        build(distill_losses=losses)


def test_zero_loss_weight_stays_allowed():
    build(distill_losses=dict(kd=dict(type='KDLoss', loss_weight=0)))


def test_nested_and_connector_values_are_named():
    with pytest.raises(ValueError, match=r'model.x.msd.scales\[1\] is nan'):
        check_hyperparams(dict(msd=dict(scales=(1, float('nan')))),
                          'model.x')
    with pytest.raises(ValueError, match='sample_weight is -1'):
        check_hyperparams(
            dict(msd=dict(type='MSDCRDLoss', sample_weight=-1)), 'model.x')
    with pytest.raises(ValueError, match='base_temperature is 0'):
        check_hyperparams(
            dict(cc=dict(type='mmkd_contrast.CategoryContrastLoss',
                         base_temperature=0)), 'm')
    check_hyperparams(dict(msd=dict(scales=(1, 2), symmetric=True)), 'm')


def test_the_rules_come_from_the_declaration_not_the_name():
    # DKD's alpha and beta are weights by declaration, not by their names.
    with pytest.raises(ValueError, match='model.distill_losses.dkd.beta is '
                       '-8.0: DKDLoss.beta'):
        check_hyperparams(dict(dkd=dict(type='DKDLoss', beta=-8.0)),
                          'model.distill_losses')
    # A name that looks like a weight is not checked as one unless the
    # class declares it (LowPassFilter declares nothing of that name).
    check_hyperparams(dict(f=dict(type='LowPassFilter', weight=-1)), 'm')
    # An unknown type is left to the build, which names it.
    check_hyperparams(dict(x=dict(type='NoSuchLoss', tau=-1)), 'm')


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
