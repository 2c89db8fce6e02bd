from .base_distill_loss import (NON_NEGATIVE, POSITIVE, POSITIVE_INT,
                                UNIT_INTERVAL, BaseDistillLoss, HyperParam,
                                LossInput)
from .category_contrast import CategoryContrastLoss
from .centre_align import CentreAlignLoss
from .crd import CRDLoss
from .dkd import DKDLoss
from .feature_align import FeatureAlignLoss
from .infonce import batch_info_nce, info_nce
from .kd import KDLoss
from .lfcc import LFCCLoss
from .msdcrd import MSDCRDLoss
from .preview_weighting import PreviewWeighting

__all__ = [
    'BaseDistillLoss', 'HyperParam', 'LossInput', 'NON_NEGATIVE', 'POSITIVE',
    'POSITIVE_INT', 'UNIT_INTERVAL', 'CategoryContrastLoss',
    'CentreAlignLoss', 'CRDLoss', 'DKDLoss', 'FeatureAlignLoss',
    'PreviewWeighting',
    'LFCCLoss', 'KDLoss', 'MSDCRDLoss', 'info_nce', 'batch_info_nce'
]
