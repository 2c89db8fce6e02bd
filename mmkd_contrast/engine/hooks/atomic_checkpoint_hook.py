import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmkd_contrast.registry import HOOKS
from ..atomic_local_backend import BACKEND_NAME, atomic_write

__all__ = ['AtomicCheckpointHook']


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with atomic writes.

    Takes exactly ``CheckpointHook``'s arguments. For a local output
    directory (and no ``backend_args``/``file_client_args`` given) every
    checkpoint, the best checkpoint included, is written to a temporary file
    and renamed into place (:class:`AtomicLocalBackend`), and so is the
    ``last_checkpoint`` file. The new checkpoint and ``last_checkpoint`` are
    written *before* the oldest checkpoint beyond ``max_keep_ckpts`` is
    deleted, so a kill at any moment leaves ``last_checkpoint`` naming a
    complete checkpoint.
    """

    def before_train(self, runner):
        out_dir = self.out_dir if self.out_dir is not None else \
            runner.work_dir
        self._atomic = (self.backend_args is None
                        and self.file_client_args is None
                        and '://' not in str(out_dir))
        if self._atomic:
            self.backend_args = dict(backend=BACKEND_NAME)
        super().before_train(runner)

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not getattr(self, '_atomic', False):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir,
                                              'last_checkpoint'))
        if outdated is not None:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)
