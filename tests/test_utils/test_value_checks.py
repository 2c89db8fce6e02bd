import pytest
import torch

from mmkd_contrast.utils import (DEBUG_CHECKS_ENV, debug_checks_enabled,
                                 host_to_device, set_debug_checks,
                                 should_check_values)


class Thing:
    pass


@pytest.fixture(autouse=True)
def reset_switch(monkeypatch):
    monkeypatch.delenv(DEBUG_CHECKS_ENV, raising=False)
    set_debug_checks(None)
    yield
    set_debug_checks(None)


def test_first_call_only_by_default():
    a, b = Thing(), Thing()
    assert should_check_values(a)
    assert not should_check_values(a)
    assert should_check_values(a, 'labels')  # another group of checks
    assert not should_check_values(a, 'labels')
    assert should_check_values(b)  # per object


def test_debug_switch_from_the_environment_and_the_function(monkeypatch):
    thing = Thing()
    should_check_values(thing)
    monkeypatch.setenv(DEBUG_CHECKS_ENV, '1')
    assert debug_checks_enabled() and should_check_values(thing)
    monkeypatch.setenv(DEBUG_CHECKS_ENV, '0')
    assert not debug_checks_enabled() and not should_check_values(thing)
    set_debug_checks(True)  # the function wins over the environment
    assert should_check_values(thing)
    set_debug_checks(False)
    monkeypatch.setenv(DEBUG_CHECKS_ENV, '1')
    assert not should_check_values(thing)
    with pytest.raises(TypeError, match='True, False or None'):
        set_debug_checks('yes')


def test_host_to_device_on_the_cpu():
    value = host_to_device([3, 1, 4], 'cpu', dtype=torch.long)
    assert value.dtype == torch.long and value.tolist() == [3, 1, 4]
