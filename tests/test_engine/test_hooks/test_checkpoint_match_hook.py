from types import SimpleNamespace

import pytest
import torch.nn as nn
from mmengine.config import Config

from mmkd_contrast.engine.config_diff import diff_configs, literal_config
from mmkd_contrast.engine.hooks import (CheckpointMatchHook,
                                        CheckpointMismatchError)


def net(width):
    return nn.Sequential(nn.Linear(2, width), nn.Linear(width, 3))


def runner_for(model, resume=False, width=4):
    cfg = Config(dict(load_from='work/epoch_3.pth', resume=resume,
                      model=dict(type='Net', width=width)))
    return SimpleNamespace(cfg=cfg, model=model)


def checkpoint(model, width=8, **meta):
    return dict(state_dict=model.state_dict(), meta=meta)


def test_a_fitting_checkpoint_passes():
    model = net(4)
    CheckpointMatchHook().after_load_checkpoint(
        runner_for(model), checkpoint(net(4)))


def test_mis_shaped_keys_are_listed_with_both_shapes():
    with pytest.raises(CheckpointMismatchError) as info:
        CheckpointMatchHook().after_load_checkpoint(
            runner_for(net(4)), checkpoint(net(8)))
    message = str(info.value)
    assert 'work/epoch_3.pth' in message
    assert '0.weight: checkpoint (8, 2) vs model (4, 2)' in message
    assert '--allow-partial-load' in message


def test_missing_and_unexpected_keys_are_listed():
    other = nn.Sequential(nn.Linear(2, 4))
    other.add_module('extra', nn.Linear(4, 4))
    with pytest.raises(CheckpointMismatchError) as info:
        CheckpointMatchHook().after_load_checkpoint(
            runner_for(net(4)), checkpoint(other))
    message = str(info.value)
    assert "missing keys (2): ['1.bias', '1.weight']" in message
    assert "unexpected keys (2): ['extra.bias', 'extra.weight']" in message


def test_module_prefix_is_stripped_as_mmengine_does():
    model = net(4)
    state = {f'module.{k}': v for k, v in model.state_dict().items()}
    CheckpointMatchHook().after_load_checkpoint(
        runner_for(model), dict(state_dict=state))


def test_not_strict_only_warns_but_resume_is_always_strict():
    hook = CheckpointMatchHook(strict=False)
    hook.after_load_checkpoint(runner_for(net(4)), checkpoint(net(8)))
    with pytest.raises(CheckpointMismatchError, match='resuming needs'):
        hook.after_load_checkpoint(runner_for(net(4), resume=True),
                                   checkpoint(net(8)))


def test_resume_names_the_run_and_the_config_differences():
    old_cfg = Config(dict(model=dict(type='Net', width=8), lr=0.1))
    ckpt = checkpoint(net(8), cfg=old_cfg.pretty_text,
                      experiment_name='net_w8_20260101_000000')
    with pytest.raises(CheckpointMismatchError) as info:
        CheckpointMatchHook().after_load_checkpoint(
            runner_for(net(4), resume=True), ckpt)
    message = str(info.value)
    assert 'net_w8_20260101_000000' in message
    assert 'model.width: 8 -> 4' in message


def test_stored_config_is_read_without_running_it(tmp_path):
    marker = tmp_path / 'ran'
    text = (f"import os\nos.mkdir({str(marker)!r})\n"
            "model = dict(type='Net', widths=[1, 2], scale=-1.5)\n"
            "other = os.getcwd()\n")
    parsed = literal_config(text)
    assert parsed == dict(model=dict(type='Net', widths=[1, 2],
                                     scale=-1.5))
    assert not marker.exists()
    assert literal_config('model = dict(') == {}


def test_diff_configs():
    old = dict(a=1, b=dict(c=[1, 2], d='x'), hooks=[dict(type='A')])
    new = dict(a=1, b=dict(c=(1, 3)), hooks=[dict(type='B')])
    assert diff_configs(old, new, 'm') == [
        "m.b.c: [1, 2] -> [1, 3]", "m.b.d: 'x' -> '<absent>'",
        "m.hooks[0].type: 'A' -> 'B'"
    ]
