"""Helpers shared by the distillers, connectors, tools and benchmarks."""
from .multi_scale_pooling import (MultiScalePooling, check_scales,
                                  pooling_matrix)
from .scoped_build import OWN_SCOPES, build_in_scope, package_scope
from .shapes import shape_of

__all__ = [
    'MultiScalePooling', 'check_scales', 'pooling_matrix', 'OWN_SCOPES',
    'build_in_scope', 'package_scope', 'shape_of'
]
