from .atomic_checkpoint_hook import AtomicCheckpointHook
from .checkpoint_match_hook import CheckpointMatchHook, CheckpointMismatchError
from .distill_epoch_hook import DistillEpochHook
from .finite_loss_hook import FiniteLossHook
from .random_state_hook import RandomStateHook
from .teacher_logits_hook import TeacherLogitsHook
from .teacher_weights_hook import TeacherWeightsHook
from .train_data_check_hook import TrainDataCheckHook

__all__ = [
    'AtomicCheckpointHook', 'CheckpointMatchHook', 'CheckpointMismatchError',
    'DistillEpochHook', 'FiniteLossHook', 'RandomStateHook',
    'TeacherLogitsHook', 'TeacherWeightsHook', 'TrainDataCheckHook'
]
