"""Teacher logits added to a distiller's predictions for evaluation."""
import torch

from mmkd_contrast.evaluation.metrics.teacher_agreement import \
    TEACHER_LOGITS_FIELD


def add_teacher_logits(teacher, inputs, data_samples, predictions):
    """Run ``teacher`` once on the batch and give each prediction its row of
    logits as the ``teacher_logits`` field.

    Args:
        teacher (BaseModel): The frozen teacher, a classifier whose
            ``tensor`` mode returns logits ``(B, num_classes)``.
        inputs (Tensor): The preprocessed batch the student saw.
        data_samples (list): The batch's data samples.
        predictions (list): The student's predictions of the batch.

    Returns:
        list: ``predictions``, each with ``teacher_logits`` set.

    Raises:
        ValueError: The teacher's output is not one ``(B, num_classes)``
            tensor for the ``B`` predictions.
    """
    with torch.no_grad():
        logits = teacher(inputs, data_samples, mode='tensor')
    if isinstance(logits, (tuple, list)) and len(logits) == 1:
        logits = logits[0]
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 \
            or logits.shape[0] != len(predictions):
        shape = tuple(logits.shape) if isinstance(
            logits, torch.Tensor) else type(logits).__name__
        raise ValueError(
            f'teacher ({type(teacher).__name__}) in tensor mode gave '
            f'{shape}; teacher agreement needs class logits '
            f'({len(predictions)}, num_classes), one row per prediction')
    for sample, row in zip(predictions, logits):
        sample.set_field(row, TEACHER_LOGITS_FIELD)
    return predictions
