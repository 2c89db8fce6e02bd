from .dist_utils import (all_gather_cat, get_rank_and_world_size,
                         setup_cpu_distributed)

__all__ = [
    'all_gather_cat', 'get_rank_and_world_size', 'setup_cpu_distributed'
]
