from .channel_aligner import ChannelAligner
from .compact_projector import CompactProjector
from .connector_sequence import ConnectorSequence
from .learnable_low_pass_filter import LearnableLowPassFilter
from .low_pass_filter import LowPassFilter
from .multi_scale_decoupler import MultiScaleDecoupler
from .projection_head import ProjectionHead
from .token_to_map import TokenToMap

__all__ = [
    'ChannelAligner', 'CompactProjector', 'ConnectorSequence',
    'LearnableLowPassFilter', 'LowPassFilter', 'MultiScaleDecoupler',
    'ProjectionHead', 'TokenToMap'
]
