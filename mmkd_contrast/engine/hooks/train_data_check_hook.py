from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmkd_contrast.registry import HOOKS

__all__ = ['TrainDataCheckHook']


@HOOKS.register_module()
class TrainDataCheckHook(Hook):
    """Check, before the first iteration, that the training data fits the
    distillation losses.

    * A loss with ``num_samples`` (CRD's memory banks: one row per training
      image, indexed by ``sample_idx``) must have exactly as many rows as
      the training set has samples: more leaves rows that are never written
      but are drawn as negatives, fewer fails mid-epoch at the first index
      out of range.
    * A loss whose ``min_samples_per_process`` is 2 or more (the in-batch
      contrastive losses: MSDCRD, LFCC, PCKD's category contrast) contrasts
      the samples of a batch, gathered from every process. Every batch of
      every process must hold that many samples, and all processes the
      same number. This project refuses, with the fix, a loader that would
      break that (``batch_size`` too small, a last batch that is too small,
      processes given different numbers of samples) instead of skipping
      the term or padding the gather: a skipped term silently changes the
      objective, and the check costs nothing per step.

    The checks read sizes only (the dataset's length, the sampler's, the
    batch size), once, in ``before_train``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        losses = getattr(model, 'distill_losses', None)
        if not losses:
            return
        loader = runner.train_dataloader
        num_data = len(loader.dataset)
        for name, loss in losses.items():
            self._check_bank_size(name, loss, num_data)
        need = {
            name: getattr(loss, 'min_samples_per_process', 1)
            for name, loss in losses.items()
            if getattr(loss, 'min_samples_per_process', 1) > 1
        }
        if need:
            self._check_batches(loader, num_data, need)

    @staticmethod
    def _check_bank_size(name, loss, num_data):
        """A memory bank sized for the training set, and every setting
        that the right size would break, reported together."""
        rows = getattr(loss, 'num_samples', None)
        if not isinstance(rows, int) or rows == num_data:
            return
        key = f'model.distill_losses.{name}'
        problems = [
            f'{key}.num_samples is {rows} but the training set has '
            f'{num_data} samples ({type(loss).__name__} keeps one '
            'memory-bank row per training sample, indexed by sample_idx)'
        ]
        fix = [f'{key}.num_samples={num_data}']
        negatives = getattr(loss, 'num_negatives', None)
        if isinstance(negatives, int) and negatives >= num_data:
            # Keep the configured share of the bank drawn as negatives.
            suggested = max(1, min(num_data - 1,
                                   round(negatives * num_data / rows)))
            problems.append(
                f'{key}.num_negatives is {negatives}, but it must be '
                f'smaller than the {num_data} bank rows')
            fix.append(f'{key}.num_negatives={suggested}')
        raise ValueError(
            '; '.join(problems) + '. Set ' + ' '.join(fix) + (
                ' (num_negatives keeps the configured share of the bank, '
                f'{negatives}/{rows})' if len(fix) > 1 else '') +
            ', e.g. with --cfg-options.')

    @staticmethod
    def _check_batches(loader, num_data, need):
        minimum = max(need.values())
        names = ', '.join(f"'{n}'" for n in sorted(need))
        what = (f'the in-batch contrastive losses ({names}) need at least '
                f'{minimum} samples in every batch of every process')
        batch_size = loader.batch_size
        if batch_size is None:
            return  # a custom batch sampler: its sizes are unknown here
        if batch_size < minimum:
            raise ValueError(
                f'train_dataloader.batch_size is {batch_size}, but {what}: '
                f'set train_dataloader.batch_size >= {minimum}')
        sampler = loader.sampler
        try:
            per_process = len(sampler)
        except TypeError:
            return  # an endless sampler: every batch is full
        world = get_world_size()
        if world > 1 and not getattr(sampler, 'round_up', True) and \
                num_data % world:
            raise ValueError(
                f'{num_data} training samples over {world} processes with '
                'train_dataloader.sampler.round_up=False give the processes '
                f'different numbers of samples, but {what}, the same on '
                'every process (their embeddings are gathered): set '
                'train_dataloader.sampler.round_up=True')
        last = per_process % batch_size
        if not loader.drop_last and 0 < last < minimum:
            raise ValueError(
                f'each process gets {per_process} training samples per epoch'
                f', so with train_dataloader.batch_size={batch_size} the '
                f'last batch holds {last}, but {what}: set '
                'train_dataloader.drop_last=True, or a batch size that '
                f'leaves a last batch of 0 or >= {minimum}')
