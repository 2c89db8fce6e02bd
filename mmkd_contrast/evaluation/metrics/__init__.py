from .teacher_agreement import TeacherAgreement

__all__ = ['TeacherAgreement']
