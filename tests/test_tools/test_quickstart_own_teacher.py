"""tools/quickstart.py: steps that name a teacher config of their own."""
import importlib.util
import json
import os.path as osp
from pathlib import Path

import pytest

from tool_helpers import QUICKSTART, ROOT, run_tool


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
        assert len(step) == 3, step
        for config in (step[1], step[2]):
            assert config is None or osp.isfile(osp.join(QUICKSTART,
                                                         config)), config
    lfcc = [s for s in quickstart.STEPS if s[1].startswith('lfcc_')]
    assert len(lfcc) == 1
    assert lfcc[0][2] == 'teacher_vit-tiny_1xb64_mnist5k.py'


def test_default_teacher_ckpt_is_where_the_quickstart_trains_it(quickstart):
    """After the quickstart, a quickstart config runs by hand as it is."""
    from mmengine.config import Config
    for _, config, teacher in quickstart.STEPS:
        if teacher is None:
            continue
        cfg = Config.fromfile(osp.join(QUICKSTART, config))
        assert cfg.model.teacher_ckpt == quickstart.final_checkpoint(
            teacher, quickstart.DEFAULT_WORK_DIR), config


def test_help_is_whole(quickstart):
    proc = run_tool('quickstart.py', '--help')
    description = proc.stdout.split('options:')[0]
    assert 'print their top-1 accuracies.' in ' '.join(description.split())


@pytest.fixture
def fake_training(quickstart, tmp_path, monkeypatch):
    """subprocess.run replaced by what a finished run leaves behind."""
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        config = osp.basename(cmd[2])
        work_dir = tmp_path / cmd[cmd.index('--work-dir') + 1]
        epoch = 20 if config.startswith('teacher_vit') else 4
        fake_run(work_dir, top1=95.0, epoch=epoch)

    monkeypatch.setattr(quickstart.subprocess, 'run', run)
    # Relative work dirs, as the tool uses them, resolved under tmp_path.
    monkeypatch.chdir(tmp_path)
    return calls


def test_own_teacher_is_trained_once_then_reused(quickstart, fake_training):
    rows = []
    config = 'teacher_vit-tiny_1xb64_mnist5k.py'
    ckpt = quickstart.teacher_ckpt(config, 'qs', rows)
    assert len(fake_training) == 1
    assert fake_training[0][2] == osp.join(QUICKSTART, config)
    assert ckpt == osp.join('qs', 'teacher_vit-tiny_1xb64_mnist5k',
                            'epoch_20.pth')
    assert rows[0][:2] == ('teacher (vit-tiny)', 95.0)
    # Second time: cached, no training, same checkpoint, row repeated.
    assert quickstart.teacher_ckpt(config, 'qs', rows) == ckpt
    assert len(fake_training) == 1
    assert rows[1] == ('teacher (vit-tiny)', 95.0, None)


def test_only_a_method_reuses_the_trained_teacher(quickstart, fake_training,
                                                  monkeypatch, capsys):
    teacher = quickstart.final_checkpoint(quickstart.TEACHER, 'qs')
    fake_run(Path(osp.dirname(teacher)), top1=97.0, epoch=4)
    monkeypatch.setattr(quickstart.sys, 'argv',
                        ['quickstart.py', '--only', 'msdcrd', '--work-dir',
                         'qs'])
    quickstart.main()
    trained = [osp.basename(c[2]) for c in fake_training]
    assert trained == ['msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py']
    assert f'model.teacher_ckpt={teacher}' in fake_training[0]
    assert 'cached' in capsys.readouterr().out


def test_table_prints_the_3_seed_reference_beside_it(quickstart, tmp_path,
                                                     capsys):
    """The one-seed table is followed by the shipped 3-seed benchmark."""
    assert osp.isfile(quickstart.EVIDENCE)
    csv_file = tmp_path / 'evidence.csv'
    csv_file.write_text(
        'method,student,teacher,seeds,mean_top1,std_top1,gain_over_student,'
        'gain_over_kd,gain_over_crd,top1_per_seed\n'
        'student alone,resnet8,,3,53.20,0.99,,,,1;2;3\n'
        'KD,resnet8,t,3,57.59,0.68,4.39,,6.88,1;2;3\n')
    lines = quickstart.evidence_lines(str(csv_file))
    assert 'student alone         53.20 ± 0.99' in lines[1]
    assert lines[2].endswith('57.59 ± 0.68  (+4.39)')
    assert quickstart.evidence_lines(str(tmp_path / 'missing.csv')) == []
    quickstart.print_table([('student + KD', 94.0, 19)], 'wd')
    out = capsys.readouterr().out
    assert 'not which method is better' in out
    assert '3-seed benchmark' in out and 'MSDCRD' in out
