"""Evaluation metrics of mmkd_contrast."""
from .metrics import TeacherAgreement, without_teacher_metrics

__all__ = ['TeacherAgreement', 'without_teacher_metrics']
