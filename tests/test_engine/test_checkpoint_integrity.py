"""A checkpoint whose bytes changed after it was written is refused,
naming the file; torch alone would load it with wrong weights."""
import hashlib
import shutil
import pytest
import torch
from fault_helpers import flip_a_weight_byte

from mmkd_contrast.engine import (CheckpointCorruptError, CheckpointError,
                                  load_checkpoint_file)
from mmkd_contrast.engine.checkpoint_integrity import sha256_prefix


def write(path):
    torch.manual_seed(0)
    torch.save(dict(state_dict=dict(w=torch.randn(4096))), path)
    return path


def test_a_flipped_byte_is_refused_naming_the_file(tmp_path):
    good = write(tmp_path / 'epoch_3.pth')
    bad = tmp_path / 'copy' / 'epoch_3.pth'
    bad.parent.mkdir()
    shutil.copy(good, bad)
    flip_a_weight_byte(bad)
    # torch itself does not notice: it loads different weights.
    loaded = torch.load(bad, weights_only=True)['state_dict']['w']
    assert not torch.equal(loaded, torch.load(good)['state_dict']['w'])
    with pytest.raises(CheckpointCorruptError) as info:
        load_checkpoint_file(str(bad))
    assert str(bad) in str(info.value) and 'CRC-32' in str(info.value)
    assert isinstance(info.value, CheckpointError)
    assert load_checkpoint_file(str(good))['state_dict']['w'].numel() == 4096


def test_the_sha256_prefix_in_a_published_name_is_checked(tmp_path):
    ckpt = write(tmp_path / 'plain.pth')
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    named = tmp_path / f'resnet_8xb32_in1k_20210831-{digest[:8]}.pth'
    shutil.copy(ckpt, named)
    assert sha256_prefix(named) == digest[:8]
    assert load_checkpoint_file(str(named))['state_dict']['w'].numel()
    wrong = tmp_path / 'resnet_8xb32_in1k_20210831-0123abcd.pth'
    shutil.copy(ckpt, wrong)
    with pytest.raises(CheckpointCorruptError, match='0123abcd') as info:
        load_checkpoint_file(str(wrong))
    assert str(wrong) in str(info.value)
    # Names without the convention are not hashed.
    assert sha256_prefix(tmp_path / 'epoch_12.pth') is None
    assert sha256_prefix(tmp_path / 'model-final.pth') is None
