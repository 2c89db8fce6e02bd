"""tools/train.py --amp (bf16 autocast on a CPU) and --debug-checks."""
import importlib.util
import math
import os.path as osp

import pytest
from mmengine.config import Config
from tool_helpers import QUICKSTART, ROOT, last_scalars, train

PCKD = osp.join(QUICKSTART, 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def load_train_tool():
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(ROOT, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_set_amp_picks_the_wrapper_for_the_device():
    tool = load_train_tool()
    cfg = Config.fromfile(KD)
    tool.set_amp(cfg, cuda=False)
    assert cfg.optim_wrapper.type == 'mmkd_contrast.AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'  # kept
    cfg = Config.fromfile(KD)
    tool.set_amp(cfg, cuda=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    cfg.optim_wrapper.type = 'SomeOtherWrapper'
    with pytest.raises(SystemExit, match='SomeOtherWrapper'):
        tool.set_amp(cfg, cuda=False)


def test_amp_trains_on_the_cpu_in_bf16(tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'pckd_amp'
    proc = train(PCKD, work, f'model.teacher_ckpt={quickstart_teacher_ckpt}',
                 'default_hooks.logger.interval=1', extra_args=['--amp'])
    assert (work / 'epoch_1.pth').is_file()
    records = last_scalars(work)
    terms = [k for k in records[0] if k.startswith('distill.loss')]
    assert {'distill.loss_cc', 'distill.loss_fa'} <= set(terms)
    for record in records:
        for key in terms:
            if key in record:
                assert math.isfinite(record[key]), (key, record)
    config = next(work.glob('*.py')).read_text()
    assert 'AutocastOptimWrapper' in config, proc.stdout[-2000:]


def test_debug_checks_flag_turns_the_switch_on(monkeypatch):
    from mmkd_contrast.utils import DEBUG_CHECKS_ENV, debug_checks_enabled
    monkeypatch.delenv(DEBUG_CHECKS_ENV, raising=False)
    tool = load_train_tool()
    monkeypatch.setattr('sys.argv', ['train.py', KD])
    tool.merge_args(Config.fromfile(KD), tool.parse_args())
    assert not debug_checks_enabled()
    monkeypatch.setattr('sys.argv', ['train.py', KD, '--debug-checks'])
    tool.merge_args(Config.fromfile(KD), tool.parse_args())
    assert debug_checks_enabled()


def test_channels_last_and_compile_flags(monkeypatch):
    tool = load_train_tool()
    monkeypatch.setattr('sys.argv',
                        ['train.py', KD, '--channels-last', '--compile'])
    cfg = Config.fromfile(KD)
    assert not cfg.get('compile') and 'channels_last' not in cfg.model
    tool.merge_args(cfg, tool.parse_args())
    assert cfg.compile is True and cfg.model.channels_last is True
    # Compile settings given as a dict are kept (they already turn it on).
    cfg = Config.fromfile(KD)
    cfg.compile = dict(options=dict(fallback_random=True))
    tool.merge_args(cfg, tool.parse_args())
    assert cfg.compile == dict(options=dict(fallback_random=True))
    teacher = osp.join(QUICKSTART, 'teacher_resnet18-w16_1xb64_mnist5k.py')
    monkeypatch.setattr('sys.argv', ['train.py', teacher, '--channels-last'])
    with pytest.raises(SystemExit, match='not a distiller'):
        tool.merge_args(Config.fromfile(teacher), tool.parse_args())
