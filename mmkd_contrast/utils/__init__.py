"""Helpers shared by the models, engine, tools and benchmarks."""
from .config_entry import ConfigEntryError, build_entry
from .dist_utils import all_gather_cat, setup_cpu_distributed
from .host_data import host_to_device
from .multi_scale_pooling import (MultiScalePooling, check_scales,
                                  pooling_matrix)
from .scoped_build import OWN_SCOPES, build_in_scope, package_scope
from .shapes import shape_of
from .value_checks import (DEBUG_CHECKS_ENV, debug_checks_enabled,
                           set_debug_checks, should_check_values)

__all__ = [
    'ConfigEntryError', 'DEBUG_CHECKS_ENV', 'MultiScalePooling',
    'OWN_SCOPES', 'all_gather_cat', 'build_entry', 'build_in_scope',
    'check_scales', 'debug_checks_enabled', 'host_to_device',
    'package_scope', 'pooling_matrix', 'set_debug_checks',
    'setup_cpu_distributed', 'shape_of', 'should_check_values'
]
