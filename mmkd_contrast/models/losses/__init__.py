from .infonce import batch_info_nce, info_nce
from .kd import KDLoss
from .lfcc import LFCCLoss
from .msdcrd import MSDCRDLoss

__all__ = ['LFCCLoss', 'KDLoss', 'MSDCRDLoss', 'info_nce', 'batch_info_nce']
