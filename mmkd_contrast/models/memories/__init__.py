"""Memory banks: state kept across training steps, one row per image."""
from .crd_memory_bank import CRDMemoryBank, GatheredBatch
from .duplicates import last_occurrences
from .negative_sampling import NEG_SAMPLINGS, draw_other_class, draw_random
from .recycled_copies import RecycledCopies

__all__ = [
    'CRDMemoryBank', 'GatheredBatch', 'NEG_SAMPLINGS', 'RecycledCopies',
    'draw_other_class', 'draw_random', 'last_occurrences'
]
