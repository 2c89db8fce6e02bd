from .pckd_distiller import PCKDDistiller
from .single_teacher_distiller import SingleTeacherDistiller

__all__ = ['PCKDDistiller', 'SingleTeacherDistiller']
