"""Helpers shared by the distillers, connectors, tools and benchmarks."""
from .config_entry import ConfigEntryError, build_entry
from .multi_scale_pooling import (MultiScalePooling, check_scales,
                                  pooling_matrix)
from .scoped_build import OWN_SCOPES, build_in_scope, package_scope
from .shapes import shape_of

__all__ = [
    'ConfigEntryError', 'MultiScalePooling', 'OWN_SCOPES', 'build_entry',
    'build_in_scope', 'check_scales', 'package_scope', 'pooling_matrix',
    'shape_of'
]
