"""Analysis helpers behind tools/analysis_tools (tap listing, pairing)."""
from .module_outputs import (TapToolError, build_network, describe,
                             in_channels_of, input_size_of, parse_tap,
                             record_outputs, select, tap_output)
from .pair_advisor import PROPOSERS, advise_pair, format_fragment

__all__ = [
    'TapToolError', 'build_network', 'describe', 'in_channels_of',
    'input_size_of', 'parse_tap', 'record_outputs', 'select', 'tap_output',
    'PROPOSERS', 'advise_pair', 'format_fragment'
]
