"""A config whose data is missing names the folder and how to get it."""
import urllib.error

import pytest
from mmengine.config import Config

from mmkd_contrast.engine import (DataNotFoundError, explain_missing_data,
                                  missing_data)
from tool_helpers import ROOT, run_tool

KD100 = f'{ROOT}/configs/kd/kd_resnet32x4_resnet8x4_1xb64_cifar100.py'


def cifar100(root):
    return Config(dict(train_dataloader=dict(dataset=dict(
        type='CIFAR100', data_root=str(root), split='train'))))


def test_missing_cifar_folder_is_named_with_the_download(tmp_path):
    lines = missing_data(cifar100(tmp_path / 'cifar100'))
    assert len(lines) == 1
    assert "train_dataloader.dataset.data_root=" in lines[0]
    assert 'cifar-100-python' in lines[0]
    assert 'cifar-100-python.tar.gz' in lines[0]
    (tmp_path / 'cifar100' / 'cifar-100-python').mkdir(parents=True)
    assert missing_data(cifar100(tmp_path / 'cifar100')) == []


def test_a_failed_download_becomes_a_named_error(tmp_path, monkeypatch):
    from mmpretrain.datasets import cifar

    def no_network(*args, **kwargs):
        raise urllib.error.URLError('no network')

    monkeypatch.setattr(cifar, 'download_and_extract_archive', no_network)
    with pytest.raises(DataNotFoundError, match='cifar-100-python'):
        with explain_missing_data(cifar100(tmp_path)):
            cifar.CIFAR100(data_root=str(tmp_path), download=True)


def test_a_missing_file_elsewhere_is_not_a_data_error(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        with explain_missing_data(cifar100(tmp_path)):
            raise FileNotFoundError('teacher_ckpt: no/file.pth')
    assert not isinstance(err.value, DataNotFoundError)


def test_errors_with_the_data_present_pass_through(tmp_path):
    (tmp_path / 'cifar-100-python').mkdir()
    with pytest.raises(RuntimeError, match='unrelated'):
        with explain_missing_data(cifar100(tmp_path)):
            raise RuntimeError('unrelated')


def test_a_wrapped_folder_dataset(tmp_path):
    cfg = Config(dict(val_dataloader=dict(dataset=dict(
        type='PerClassSubset', dataset=dict(
            type='CustomDataset', data_root=str(tmp_path / 'jpeg'))))))
    assert 'jpeg' in missing_data(cfg)[0]


def test_train_tool_on_a_cifar100_config_without_data(tmp_path):
    work = tmp_path / 'work'
    proc = run_tool(
        'train.py', KD100, '--work-dir', str(work), '--random-teacher',
        '--cfg-options', 'model.teacher_ckpt=None',
        f'train_dataloader.dataset.data_root={tmp_path}',
        'train_dataloader.dataset.download=False',
        'train_dataloader.num_workers=0', check=False)
    assert proc.returncode != 0
    assert 'DataNotFoundError' in proc.stderr
    assert f'{tmp_path}/cifar-100-python does not exist' in proc.stderr
    assert not list(work.rglob('*.pth'))
