import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmkd_contrast.registry import HOOKS


def get_random_states():
    """The Python, numpy and torch (CPU and CUDA) random generator states."""
    states = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states):
    """Restore states returned by :func:`get_random_states`."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    cuda = states.get('cuda')
    if cuda is not None and torch.cuda.is_available() and \
            len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Make ``--resume`` continue exactly where the run stopped.

    mmengine reseeds a resumed run but does not restore the global random
    generators, so augmentation done in the main process (``num_workers=0``)
    and random ops inside the model differ from an uninterrupted run. This
    hook snapshots the generators at the end of every training epoch, stores
    the snapshot in each checkpoint, and sets it back at the start of the
    next training epoch, in the uninterrupted run (which also cancels the
    draws validation makes) and after ``--resume`` alike.

    Epoch-based training only; with ``num_workers > 0`` the workers are
    seeded by mmengine from the seed and are already reproducible.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) saves

    def __init__(self):
        self._states = None

    def after_train_epoch(self, runner):
        self._states = get_random_states()

    def before_save_checkpoint(self, runner, checkpoint):
        checkpoint['random_states'] = self._states or get_random_states()

    def after_load_checkpoint(self, runner, checkpoint):
        self._states = checkpoint.get('random_states', self._states)

    def before_train_epoch(self, runner):
        if self._states is not None:
            set_random_states(self._states)
