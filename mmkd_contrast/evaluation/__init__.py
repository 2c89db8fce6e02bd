"""Evaluation metrics of mmkd_contrast."""
from .metrics import TeacherAgreement

__all__ = ['TeacherAgreement']
