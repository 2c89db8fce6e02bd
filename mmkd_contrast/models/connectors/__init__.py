from .channel_aligner import ChannelAligner
from .multi_scale_decoupler import MultiScaleDecoupler

__all__ = ['ChannelAligner', 'MultiScaleDecoupler']
