"""tools/quickstart.py: steps that name a teacher config of their own."""
import importlib.util
import json
import os.path as osp

import pytest

from tool_helpers import QUICKSTART, ROOT


@pytest.fixture
def quickstart():
    spec = importlib.util.spec_from_file_location(
        'quickstart_tool', osp.join(ROOT, 'tools', 'quickstart.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_run(work_dir, top1, epoch):
    """What a finished mmengine run leaves behind, in miniature."""
    (work_dir / '20260101_000000' / 'vis_data').mkdir(parents=True)
    with open(work_dir / '20260101_000000' / 'vis_data' / 'scalars.json',
              'w') as f:
        f.write(json.dumps({'accuracy/top1': top1, 'step': epoch}) + '\n')
    ckpt = work_dir / f'epoch_{epoch}.pth'
    ckpt.write_bytes(b'')
    (work_dir / 'last_checkpoint').write_text(str(ckpt))
    return str(ckpt)


def test_every_step_names_existing_configs(quickstart):
    for step in quickstart.STEPS:
        assert 3 <= len(step) <= 4, step
        for config in step[1:2] + step[3:]:
            assert osp.isfile(osp.join(QUICKSTART, config)), config
    lfcc = [s for s in quickstart.STEPS if s[1].startswith('lfcc_')]
    assert len(lfcc) == 1
    assert lfcc[0][2:] == (True, 'teacher_vit-tiny_1xb64_mnist5k.py')


def test_own_teacher_is_trained_once_then_reused(quickstart, tmp_path,
                                                 monkeypatch):
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        work_dir = tmp_path / cmd[cmd.index('--work-dir') + 1]
        fake_run(work_dir, top1=95.0, epoch=20)

    monkeypatch.setattr(quickstart.subprocess, 'run', run)
    rows = []
    config = 'teacher_vit-tiny_1xb64_mnist5k.py'
    # Relative work dirs, as the tool uses them, resolved under tmp_path.
    monkeypatch.chdir(tmp_path)
    ckpt = quickstart.own_teacher_ckpt(config, 'qs', rows)
    assert len(calls) == 1
    assert calls[0][2] == osp.join(QUICKSTART, config)
    assert ckpt.endswith(osp.join('teacher_vit-tiny_1xb64_mnist5k',
                                  'epoch_20.pth'))
    assert rows[0][:2] == ('teacher (vit-tiny)', 95.0)
    # Second time: cached, no training, same checkpoint, row repeated.
    assert quickstart.own_teacher_ckpt(config, 'qs', rows) == ckpt
    assert len(calls) == 1
    assert rows[1][:2] == ('teacher (vit-tiny)', 95.0)
