"""FiniteLossHook: a non-finite loss stops training, naming the term and
the iteration, and no checkpoint of the poisoned weights is written."""
import math
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from tool_helpers import QUICKSTART

from mmkd_contrast.engine.hooks import FiniteLossHook

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
ITERS_PER_EPOCH = 4  # 200 images, batch 64


class PoisonTeacherHook(Hook):
    """Fills the teacher's classifier with NaN before iteration ``at``:
    the KD term turns NaN, and its gradient poisons the student."""

    def __init__(self, at):
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at:
            runner.model.teacher.head.fc.weight.data.fill_(float('nan'))


def make_runner(work_dir, teacher_ckpt, name, poison_at=None,
                finite_hook=True, resume=False):
    cfg = Config.fromfile(KD)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.model.teacher_ckpt = teacher_ckpt
    cfg.train_cfg.max_epochs = 2
    cfg.train_dataloader.dataset.train_subset_per_class = 20
    cfg.val_dataloader.dataset.indices = 100
    cfg.default_hooks.logger.interval = 1
    if not finite_hook:
        cfg.custom_hooks = [
            h for h in cfg.custom_hooks if 'FiniteLossHook' not in h['type']
        ]
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    if poison_at is not None:
        runner.register_hook(PoisonTeacherHook(poison_at))
    return runner


def student_state(path):
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    return {k: v for k, v in ckpt['state_dict'].items()
            if k.startswith('student.')}


def all_finite(state):
    return all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())


def test_default_runtime_has_the_hook():
    cfg = Config.fromfile(KD)
    assert dict(type='mmkd_contrast.FiniteLossHook') in cfg.custom_hooks


def test_nan_stops_training_before_the_poisoned_checkpoint_and_resumes(
        tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'work'
    poison_at = ITERS_PER_EPOCH + 1  # the second batch of epoch 2
    runner = make_runner(work, quickstart_teacher_ckpt, 'poisoned',
                         poison_at=poison_at)
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    message = str(err.value)
    assert 'non-finite loss distill.loss_kd = nan' in message
    assert f'iteration {poison_at + 1} (epoch 2, batch 2 ' in message
    assert str(work / 'epoch_1.pth') in message
    # The step did poison the student, but nothing of it was saved.
    student = runner.model.student
    assert not all(torch.isfinite(p).all() for p in student.parameters())
    assert sorted(p.name for p in work.glob('*.pth')) == [
        'best_accuracy_top1_epoch_1.pth', 'epoch_1.pth'
    ]
    assert (work / 'last_checkpoint').read_text() == str(work /
                                                         'epoch_1.pth')
    assert all_finite(student_state(work / 'epoch_1.pth'))

    # --resume (resume=True, no file given) follows last_checkpoint to the
    # good checkpoint and finishes the run.
    resumed = make_runner(work, quickstart_teacher_ckpt, 'resumed',
                          resume=True)
    resumed.train()
    assert resumed.epoch == 2
    assert (work / 'last_checkpoint').read_text() == str(work /
                                                         'epoch_2.pth')
    assert all_finite(student_state(work / 'epoch_2.pth'))


def test_without_the_hook_a_nan_student_is_saved(tmp_path,
                                                 quickstart_teacher_ckpt):
    """What the hook prevents (the poison above is real)."""
    work = tmp_path / 'work'
    runner = make_runner(work, quickstart_teacher_ckpt, 'unguarded',
                         poison_at=ITERS_PER_EPOCH + 1, finite_hook=False)
    runner.train()
    assert not all_finite(student_state(work / 'epoch_2.pth'))


def fake_runner(tmp_path, **scalars):
    hub = MessageHub(name=f'finite-{len(scalars)}-{id(scalars)}')
    for key, value in scalars.items():
        hub.update_scalar(f'train/{key}', value)
    return SimpleNamespace(message_hub=hub, iter=6, epoch=1,
                           work_dir=str(tmp_path))


def test_finite_values_pass_and_the_first_bad_term_is_named(tmp_path):
    hook = FiniteLossHook()
    outputs = {'loss': None, 'student.loss': None, 'distill.loss_crd': None}
    ok = fake_runner(tmp_path, loss=1.5, **{'student.loss': 0.5,
                                            'distill.loss_crd': 1.0})
    hook.after_train_iter(ok, 2, outputs=outputs)
    bad = fake_runner(tmp_path, loss=math.inf, **{
        'student.loss': 0.5, 'distill.loss_crd': math.inf})
    with pytest.raises(FloatingPointError,
                       match=r'distill.loss_crd = inf at iteration 7 '
                       r'\(epoch 2, batch 3 .*also loss = inf.*'
                       'No checkpoint of this run was written'):
        hook.after_train_iter(bad, 2, outputs=outputs)


def test_non_finite_weights_are_not_saved(tmp_path):
    hook = FiniteLossHook()
    runner = fake_runner(tmp_path)
    good = dict(state_dict={'student.w': torch.ones(3),
                            'student.n': torch.tensor(3)})
    hook.before_save_checkpoint(runner, good)
    bad = dict(state_dict={'student.w': torch.tensor([1., float('nan')])})
    with pytest.raises(FloatingPointError,
                       match='student.w holds non-finite values'):
        hook.before_save_checkpoint(runner, bad)
    FiniteLossHook(check_checkpoint=False).before_save_checkpoint(runner, bad)
