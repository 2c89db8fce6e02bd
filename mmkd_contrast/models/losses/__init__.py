from .infonce import batch_info_nce, info_nce
from .kd import KDLoss

__all__ = ['KDLoss', 'info_nce', 'batch_info_nce']
