from types import SimpleNamespace

import torch.nn as nn
from mmengine.model import MMDistributedDataParallel

from mmkd_contrast.engine.hooks import DistillEpochHook


class EpochModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.calls = []

    def set_epoch(self, epoch, max_epochs=None):
        self.calls.append((epoch, max_epochs))


def test_sets_the_one_based_epoch_before_each_training_epoch():
    model = EpochModel()
    runner = SimpleNamespace(model=model, epoch=0, max_epochs=240)
    hook = DistillEpochHook()
    hook.before_train_epoch(runner)
    runner.epoch = 59  # e.g. resumed after 59 epochs
    hook.before_train_epoch(runner)
    assert model.calls == [(1, 240), (60, 240)]


def test_unwraps_a_ddp_model_and_ignores_models_without_set_epoch():
    model = EpochModel()
    wrapper = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    nn.Module.__init__(wrapper)
    wrapper.module = model
    DistillEpochHook().before_train_epoch(
        SimpleNamespace(model=wrapper, epoch=2, max_epochs=None))
    assert model.calls == [(3, None)]
    # A plain classifier has no set_epoch: nothing happens.
    DistillEpochHook().before_train_epoch(
        SimpleNamespace(model=nn.Linear(2, 2), epoch=0, max_epochs=4))
