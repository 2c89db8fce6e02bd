from types import SimpleNamespace

import mmengine.dataset.sampler as mmengine_sampler
import pytest
import torch.nn as nn
from mmengine.dataset import DefaultSampler
from torch.utils.data import DataLoader

from mmkd_contrast.engine.hooks import TrainDataCheckHook
from mmkd_contrast.engine.hooks import train_data_check_hook
from mmkd_contrast.models import (CategoryContrastLoss, CRDLoss, KDLoss,
                                  LFCCLoss, MSDCRDLoss)


def runner(losses, num_data=100, batch_size=8, drop_last=False,
           round_up=True):
    model = nn.Module()
    model.distill_losses = nn.ModuleDict(losses)
    data = list(range(num_data))
    loader = DataLoader(
        data, batch_size=batch_size, drop_last=drop_last,
        sampler=DefaultSampler(data, shuffle=False, round_up=round_up))
    return SimpleNamespace(model=model, train_dataloader=loader)


def check(*args, **kwargs):
    TrainDataCheckHook().before_train(runner(*args, **kwargs))


def crd(num_samples):
    return dict(crd=CRDLoss(num_samples=num_samples, feat_dim=4,
                            num_negatives=8))


@pytest.mark.parametrize('rows', [99, 101, 50000])
def test_crd_num_samples_must_be_the_dataset_size(rows):
    with pytest.raises(ValueError) as info:
        check(crd(rows), num_data=100)
    message = str(info.value)
    assert f'model.distill_losses.crd.num_samples is {rows}' in message
    assert 'num_samples=100' in message
    check(crd(100), num_data=100)


def test_every_crd_constraint_is_reported_with_one_fix():
    """A bank sized for 50,000 images on a 4,000-image set: num_samples
    and num_negatives are wrong together, and the fix sets both."""
    losses = dict(crd=CRDLoss(num_samples=50000, feat_dim=4,
                              num_negatives=16384))
    with pytest.raises(ValueError) as info:
        check(losses, num_data=4000)
    message = str(info.value)
    assert 'num_samples is 50000' in message
    assert 'num_negatives is 16384' in message
    fix = message.split('. Set ')[1]
    assert 'model.distill_losses.crd.num_samples=4000' in fix
    negatives = int(fix.split('num_negatives=')[1].split()[0])
    assert negatives == 1311  # the configured share, 16384 / 50000
    # Following the fix passes the check and builds.
    check(dict(crd=CRDLoss(num_samples=4000, feat_dim=4,
                           num_negatives=negatives)), num_data=4000)


@pytest.mark.parametrize('loss', [MSDCRDLoss, LFCCLoss, CategoryContrastLoss])
def test_every_in_batch_loss_declares_its_need(loss):
    assert loss.min_samples_per_process == 2
    assert getattr(KDLoss, 'min_samples_per_process', 1) == 1


def test_batch_size_one_is_refused():
    with pytest.raises(ValueError, match='batch_size is 1.*>= 2'):
        check(dict(msd=MSDCRDLoss()), batch_size=1)
    check(dict(kd=KDLoss()), batch_size=1)  # KD does not contrast


def test_a_last_batch_of_one_is_refused_with_the_fix():
    # 97 = 12 * 8 + 1: the epoch ends with a batch of one image.
    with pytest.raises(ValueError) as info:
        check(dict(lfcc=LFCCLoss()), num_data=97, batch_size=8)
    message = str(info.value)
    assert "'lfcc'" in message and 'last batch holds 1' in message
    assert 'drop_last=True' in message
    check(dict(lfcc=LFCCLoss()), num_data=97, batch_size=8, drop_last=True)
    check(dict(lfcc=LFCCLoss()), num_data=98, batch_size=8)  # last: 2
    check(dict(kd=KDLoss()), num_data=97, batch_size=8)


def test_several_processes(monkeypatch):
    monkeypatch.setattr(mmengine_sampler, 'get_dist_info', lambda: (0, 2))
    monkeypatch.setattr(train_data_check_hook, 'get_world_size', lambda: 2)
    # 2 processes x 8 samples: 33 -> 17 per process, last batch of 1.
    with pytest.raises(ValueError, match='gets 17 training samples'):
        check(dict(msd=MSDCRDLoss()), num_data=33, batch_size=8)
    # Uneven split between processes: their gathers would not match.
    with pytest.raises(ValueError, match='round_up=True'):
        check(dict(msd=MSDCRDLoss()), num_data=35, batch_size=8,
              round_up=False, drop_last=True)
    check(dict(msd=MSDCRDLoss()), num_data=36, batch_size=8)


def test_models_without_distill_losses_are_left_alone():
    loader = DataLoader(list(range(3)), batch_size=1)
    TrainDataCheckHook().before_train(
        SimpleNamespace(model=nn.Linear(1, 1), train_dataloader=loader))
