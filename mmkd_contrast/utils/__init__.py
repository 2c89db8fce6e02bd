from .dist_utils import all_gather_cat, setup_cpu_distributed
from .host_data import host_to_device
from .value_checks import (DEBUG_CHECKS_ENV, debug_checks_enabled,
                           set_debug_checks, should_check_values)

__all__ = [
    'all_gather_cat', 'setup_cpu_distributed',
    'host_to_device', 'DEBUG_CHECKS_ENV', 'debug_checks_enabled',
    'set_debug_checks', 'should_check_values'
]
