"""Helpers shared by the distillers, connectors, tools and benchmarks."""
from .scoped_build import OWN_SCOPES, build_in_scope, package_scope
from .shapes import shape_of

__all__ = ['OWN_SCOPES', 'build_in_scope', 'package_scope', 'shape_of']
