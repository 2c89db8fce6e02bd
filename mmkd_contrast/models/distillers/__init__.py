from .base_distiller import BaseDistiller
from .pckd_distiller import PCKDDistiller
from .single_teacher_distiller import SingleTeacherDistiller

__all__ = ['BaseDistiller', 'PCKDDistiller', 'SingleTeacherDistiller']
