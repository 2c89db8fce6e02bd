from .atomic_local_backend import AtomicLocalBackend, atomic_write
from .checkpoint_integrity import CheckpointCorruptError, check_integrity
from .checkpoint_loading import (CheckpointError, load_checkpoint_file,
                                 register_weights_only_loaders, state_dict_of,
                                 weights_only_forced)
from .checkpoint_teacher import (checkpoint_has_teacher,
                                 teacher_from_checkpoint)
from .data_folders import (DataNotFoundError, explain_missing_data,
                           missing_data)
from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .resume import find_resume_checkpoint, read_last_checkpoint
from .safe_globals import register_mmengine_safe_globals
from .safety_hooks import add_safety_hooks

__all__ = [
    'register_mmengine_safe_globals', 'register_weights_only_loaders',
    'load_checkpoint_file', 'state_dict_of', 'weights_only_forced',
    'CheckpointError', 'AtomicLocalBackend', 'atomic_write',
    'find_resume_checkpoint', 'read_last_checkpoint', 'add_safety_hooks',
    'checkpoint_has_teacher',
    'teacher_from_checkpoint', 'DataNotFoundError', 'explain_missing_data',
    'missing_data', 'CheckpointCorruptError', 'check_integrity'
]
