"""How far a distilled student agrees with its teacher."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mmkd_contrast.registry import METRICS

#: The data-sample field the distiller's ``predict`` mode fills with the
#: teacher's logits when a :class:`TeacherAgreement` asks for them.
TEACHER_LOGITS_FIELD = 'teacher_logits'


@METRICS.register_module()
class TeacherAgreement(BaseMetric):
    """Top-1 agreement and mean KL divergence between student and teacher.

    For every evaluation sample it compares the student's prediction
    (``pred_score``, the softmax of its logits) with the teacher's logits,
    which a distiller adds to the data samples (``teacher_logits``) in
    ``predict`` mode: one teacher forward per batch, and only while this
    metric is evaluated. :class:`~mmkd_contrast.engine.TeacherLogitsHook`
    (in the plugin's ``default_runtime.py``) switches that on for the
    validation and test loops whose evaluator holds this metric.

    Reported (with the default prefix):

    - ``teacher_agreement/top1``: percentage of samples whose student and
      teacher top-1 classes are the same;
    - ``teacher_agreement/kl``: mean over samples of
      ``KL(p_teacher || p_student)`` at temperature 1, in nats.

    Results are kept per sample, so under DDP mmengine's gathering drops
    the samples a distributed sampler repeats to pad the last batch.

    Example:
        >>> val_evaluator = [
        ...     dict(type='Accuracy', topk=(1, )),
        ...     dict(type='mmkd_contrast.TeacherAgreement'),
        ... ]

    Args:
        collect_device (str): Device of the gathering, ``'cpu'`` or
            ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``'teacher_agreement'``.
    """
    default_prefix: Optional[str] = 'teacher_agreement'
    #: Read by TeacherLogitsHook: this metric needs teacher logits.
    needs_teacher_logits = True

    def process(self, data_batch, data_samples: Sequence[dict]):
        """Keep, per sample, whether the top-1 classes agree and the KL.

        Raises:
            KeyError: A sample has no teacher logits: the model is not a
                distiller, or the hook that asks it for them is missing.
            ValueError: The teacher's and the student's class counts
                differ.
        """
        for sample in data_samples:
            teacher = _field(sample, TEACHER_LOGITS_FIELD)
            student = _field(sample, 'pred_score')
            if teacher is None:
                raise KeyError(
                    'TeacherAgreement: the predictions carry no '
                    f"'{TEACHER_LOGITS_FIELD}'. The metric needs a "
                    'distiller as model (model.teacher) and the hook '
                    "dict(type='mmkd_contrast.TeacherLogitsHook') in "
                    "custom_hooks (the plugin's default_runtime.py has "
                    'it), which asks the distiller for them.')
            if student is None or student.shape != teacher.shape:
                raise ValueError(
                    'TeacherAgreement: the student\'s pred_score '
                    f'{None if student is None else tuple(student.shape)} '
                    'and the teacher_logits '
                    f'{tuple(teacher.shape)} must have the same shape '
                    '(num_classes,)')
            teacher = teacher.detach().float().cpu()
            student = student.detach().float().cpu()
            log_p_t = F.log_softmax(teacher, dim=-1)
            log_p_s = student.clamp_min(torch.finfo(torch.float32).tiny).log()
            kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
            self.results.append(
                dict(agree=bool(student.argmax() == teacher.argmax()),
                     kl=float(kl)))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Percentage of agreeing samples and the mean KL."""
        count = len(results)
        return dict(
            top1=100.0 * sum(r['agree'] for r in results) / count,
            kl=sum(r['kl'] for r in results) / count)


def _field(sample, name):
    value = sample.get(name) if hasattr(sample, 'get') else None
    return value if isinstance(value, torch.Tensor) else None


def without_teacher_metrics(evaluator):
    """An evaluator config without the metrics that need a teacher.

    For a student evaluated alone (an exported student): a metric whose
    class sets ``needs_teacher_logits`` (:class:`TeacherAgreement`) would
    find no teacher logits.

    Args:
        evaluator (dict | list[dict] | None): ``val_evaluator`` or
            ``test_evaluator`` of a config: one metric, a list of them, or
            an ``Evaluator`` dict with ``metrics``.

    Returns:
        The same structure without those metrics (a one-metric config that
        needs a teacher becomes an empty list).
    """

    def needs_teacher(metric):
        if not isinstance(metric, dict):
            return False
        cls = METRICS.get(metric.get('type')) if isinstance(
            metric.get('type'), str) else metric.get('type')
        return bool(getattr(cls, 'needs_teacher_logits', False))

    if isinstance(evaluator, (list, tuple)):
        return [m for m in evaluator if not needs_teacher(m)]
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        return dict(evaluator,
                    metrics=without_teacher_metrics(evaluator['metrics']))
    if needs_teacher(evaluator):
        return []
    return evaluator
