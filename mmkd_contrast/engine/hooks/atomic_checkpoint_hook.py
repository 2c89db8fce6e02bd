from mmengine.hooks import CheckpointHook

from mmkd_contrast.registry import HOOKS
from ..atomic_local_backend import BACKEND_NAME

__all__ = ['AtomicCheckpointHook']


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` wait for :meth:`flush`.

    Everything else goes to the wrapped backend.
    """

    def __init__(self, backend):
        self._backend = backend
        self._pending = []

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, filepath):
        self._pending.append((self._backend.remove, filepath))

    def rmtree(self, dir_path):
        self._pending.append((self._backend.rmtree, dir_path))

    def flush(self):
        pending, self._pending = self._pending, []
        for remove, path in pending:
            remove(path)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with atomic writes.

    Takes exactly ``CheckpointHook``'s arguments. For a local output
    directory (and no ``backend_args``/``file_client_args`` given) every
    checkpoint, the best checkpoint included, is written to a temporary file
    and renamed into place (:class:`AtomicLocalBackend`). ``CheckpointHook``
    deletes the checkpoint beyond ``max_keep_ckpts`` (and the previous best
    checkpoint) before it writes the new one; here those deletions wait
    until the hook's ``after_*`` method has written the new checkpoint and
    ``last_checkpoint``. A kill at any moment therefore leaves at least one
    complete checkpoint, and ``find_resume_checkpoint`` (``--resume``)
    resumes from it even when the kill emptied ``last_checkpoint``.
    """

    def before_train(self, runner):
        out_dir = self.out_dir if self.out_dir is not None else \
            runner.work_dir
        atomic = (self.backend_args is None and self.file_client_args is None
                  and '://' not in str(out_dir))
        if atomic:
            self.backend_args = dict(backend=BACKEND_NAME)
        super().before_train(runner)
        if atomic:
            self.file_backend = _DeferredRemoval(self.file_backend)

    def _remove_outdated(self):
        if isinstance(self.file_backend, _DeferredRemoval):
            self.file_backend.flush()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self._remove_outdated()

    def after_train_epoch(self, runner):
        super().after_train_epoch(runner)
        self._remove_outdated()

    def after_val_epoch(self, runner, metrics=None):
        super().after_val_epoch(runner, metrics)
        self._remove_outdated()
