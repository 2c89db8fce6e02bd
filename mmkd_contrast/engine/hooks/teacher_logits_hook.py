"""Ask a distiller for its teacher's logits while an evaluator needs them."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd_contrast.registry import HOOKS


def _metrics_needing_teacher(loop):
    evaluator = getattr(loop, 'evaluator', None)
    return [
        m for m in getattr(evaluator, 'metrics', [])
        if getattr(m, 'needs_teacher_logits', False)
    ]


@HOOKS.register_module()
class TeacherLogitsHook(Hook):
    """Switch a distiller's ``predict`` mode to add teacher logits, for the
    validation or test loops whose evaluator has a metric that needs them
    (:class:`~mmkd_contrast.evaluation.TeacherAgreement`).

    Outside those loops, and in every loop without such a metric, the
    distiller predicts with the student alone, as an exported student
    does. It does nothing when no metric asks.

    Raises:
        TypeError: A metric asks, but the model is not a distiller.
    """
    priority = 'NORMAL'

    def _switch(self, runner, loop_name, on):
        loop = getattr(runner, f'{loop_name}_loop', None)
        metrics = _metrics_needing_teacher(loop)
        if not metrics:
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'predict_teacher_logits'):
            raise TypeError(
                f'{loop_name}_evaluator: {type(metrics[0]).__name__} '
                'compares the student with its teacher, but the model '
                f'({type(model).__name__}) is not a distiller with a '
                'teacher (model.teacher)')
        model.predict_teacher_logits = on

    def before_val_epoch(self, runner):
        self._switch(runner, 'val', True)

    def after_val_epoch(self, runner, metrics=None):
        self._switch(runner, 'val', False)

    def before_test_epoch(self, runner):
        self._switch(runner, 'test', True)

    def after_test_epoch(self, runner, metrics=None):
        self._switch(runner, 'test', False)
