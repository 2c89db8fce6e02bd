from .teacher_agreement import TeacherAgreement, without_teacher_metrics

__all__ = ['TeacherAgreement', 'without_teacher_metrics']
