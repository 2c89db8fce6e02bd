"""Helpers shared by the distillers, connectors, tools and benchmarks."""
from .config_entry import ConfigEntryError, build_entry
from .scoped_build import OWN_SCOPES, build_in_scope, package_scope
from .shapes import shape_of

__all__ = [
    'ConfigEntryError', 'OWN_SCOPES', 'build_entry', 'build_in_scope',
    'package_scope', 'shape_of'
]
