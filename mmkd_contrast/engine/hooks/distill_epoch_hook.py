"""Tell the model which epoch it trains, before each training epoch."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd_contrast.registry import HOOKS

__all__ = ['DistillEpochHook']


@HOOKS.register_module()
class DistillEpochHook(Hook):
    """Call ``model.set_epoch(epoch, max_epochs)`` before every training
    epoch, for models whose losses depend on the epoch.

    ``epoch`` is 1-based; ``max_epochs`` is the runner's (None for an
    iteration-based loop). A model without ``set_epoch`` is left alone, so
    the hook sits in the shared runtime of every config. This is how
    epoch-dependent model state is driven in the OpenMMLab stack (a hook
    sets it; ``forward`` only reads it): ``PCKDDistiller``'s preview
    weights grow with the epoch. A resumed run gets the resumed epoch.
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        set_epoch = getattr(model, 'set_epoch', None)
        if callable(set_epoch):
            set_epoch(runner.epoch + 1, getattr(runner, 'max_epochs', None))
