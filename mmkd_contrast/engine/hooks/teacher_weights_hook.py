from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmkd_contrast.registry import HOOKS

__all__ = ['TeacherWeightsHook']


@HOOKS.register_module()
class TeacherWeightsHook(Hook):
    """Refuse to train a distiller whose teacher has no trained weights.

    A teacher gets its weights from ``teacher_ckpt``, a ``Pretrained``
    ``init_cfg`` inside the teacher, or a checkpoint the Runner loads
    (``load_from``, ``--resume``). mmengine calls ``before_train`` after
    loading that checkpoint and before the first iteration, so this is the
    first moment every source is known and the last one before the student
    learns from noise. The distiller raises
    :class:`~mmkd_contrast.models.distillers.teacher_weights.RandomTeacherError`
    unless it was built with ``allow_random_teacher=True``. Models that are
    not distillers are not checked.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        check = getattr(model, 'check_teacher_weights', None)
        if check is None:
            return
        check()
        print_log(
            'Teacher weights: ' + (model.teacher_weights or
                                   'random (allow_random_teacher=True)'),
            logger='current')
