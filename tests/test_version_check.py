import warnings

import mmkd_contrast
from mmkd_contrast.version import parse_version_info


def test_parse_version_info():
    assert parse_version_info('2.14.1+cu130') == (2, 14, 1)
    assert parse_version_info('1.2.0rc1') == (1, 2, 0)
    assert parse_version_info('0.10.7') == (0, 10, 7)


def test_out_of_range_dependency_warns_not_asserts():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        mmkd_contrast._check_versions(
            {'mmcv': ('2.3.1', '2.0.0', '2.3.0'),
             'mmengine': ('0.10.7', '0.10.0', '0.11.0')})
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and 'mmcv==2.3.1' in messages[0]


def test_installed_stack_is_in_range():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        mmkd_contrast._check_versions()
    assert not [w for w in caught if 'was tested with' in str(w.message)]
