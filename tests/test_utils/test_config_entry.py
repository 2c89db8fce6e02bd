"""A loss or connector config that cannot be built is named by its key,
with its values, whatever raised deep inside."""
import pytest

from mmkd_contrast.utils import ConfigEntryError, build_entry
from mmkd_contrast.utils.config_entry import check_flags


def test_a_misspelled_type_names_the_key():
    with pytest.raises(ConfigEntryError) as info:
        build_entry(dict(type='KDLos', tau=4.0), 'model.distill_losses.kd')
    text = str(info.value)
    assert text.startswith("model.distill_losses.kd = dict(type='KDLos', "
                           'tau=4.0) could not be built: ')
    assert 'KDLos' in text.split('could not be built: ')[1]
    assert isinstance(info.value, KeyError)


def test_a_bare_torch_error_gets_the_key_and_the_values():
    with pytest.raises(TypeError) as info:
        build_entry(dict(type='ProjectionHead', in_channels=None,
                         out_channels=8), 'model.connectors.s_embed')
    assert 'model.connectors.s_embed' in str(info.value)
    assert 'in_channels=None' in str(info.value)
    assert info.value.__cause__ is not None


def test_flags_must_be_bools_also_in_nested_configs():
    with pytest.raises(TypeError, match=r"model\.distill_losses\.l\."
                       r"symmetric is 'no' \(str\)"):
        check_flags(dict(type='LFCCLoss', symmetric='no'),
                    'model.distill_losses.l')
    chain = dict(type='ConnectorSequence', connectors=[
        dict(type='LearnableLowPassFilter', in_channels=4,
             per_channel=1)])
    with pytest.raises(TypeError, match=r'model\.connectors\.c\.'
                       r'connectors\[0\]\.per_channel is 1'):
        check_flags(chain, 'model.connectors.c')
    check_flags(dict(type='LFCCLoss', symmetric=False), 'k')
    assert build_entry(dict(type='KDLoss', tau=2.0), 'k').tau == 2.0
