"""The exporter never destroys a file and refuses weights that do not fit
the config's student."""
import os
import shutil

import pytest
import torch
from mmengine.config import Config
from test_export_student_config import load_export_tool
from tool_helpers import QUICKSTART, run_tool

from mmkd_contrast.utils import build_in_scope

KD = os.path.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def distiller_checkpoint(path, student_width=4):
    cfg = Config.fromfile(KD)
    cfg.model.teacher_ckpt = None
    if student_width != 4:
        cfg.model.student.backbone.stem_channels = student_width
        cfg.model.student.backbone.base_channels = student_width
        cfg.model.student.head.in_channels = student_width * 8
    torch.manual_seed(0)
    model = build_in_scope(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)),
               path)
    return str(path)


@pytest.fixture(scope='module')
def tool():
    return load_export_tool()


@pytest.fixture
def ckpt(tmp_path):
    return distiller_checkpoint(tmp_path / 'epoch_1.pth')


def test_out_is_the_checkpoint(tool, ckpt):
    before = open(ckpt, 'rb').read()
    with pytest.raises(FileExistsError, match='is the input checkpoint'):
        tool.export(KD, ckpt, ckpt, force=True)
    assert open(ckpt, 'rb').read() == before


def test_out_ending_in_py_would_overwrite_the_weights(tool, ckpt, tmp_path):
    with pytest.raises(FileExistsError, match='ends in .py'):
        tool.export(KD, ckpt, str(tmp_path / 'student.py'))
    assert not (tmp_path / 'student.py').exists()


def test_outs_config_is_the_input_config(tool, ckpt, tmp_path):
    config = tmp_path / 'distill.py'
    shutil.copy(KD, config)
    text = config.read_text()
    with pytest.raises(FileExistsError, match="OUT's config .* is the "
                       'input config'):
        tool.export(str(config), ckpt, str(tmp_path / 'distill.pth'),
                    force=True)
    assert config.read_text() == text
    assert not (tmp_path / 'distill.pth').exists()


def test_existing_out_needs_force(tool, ckpt, tmp_path):
    out = tmp_path / 'student.pth'
    out.write_bytes(b'keep me')
    with pytest.raises(FileExistsError, match='--force'):
        tool.export(KD, ckpt, str(out))
    assert out.read_bytes() == b'keep me'
    assert not (tmp_path / 'student.py').exists()
    tool.export(KD, ckpt, str(out), force=True)
    exported = torch.load(out, weights_only=True)['state_dict']
    assert 'backbone.conv1.weight' in exported


def test_student_of_another_width_is_an_error(tool, tmp_path):
    wide = distiller_checkpoint(tmp_path / 'wide.pth', student_width=8)
    out = tmp_path / 'student.pth'
    with pytest.raises(ValueError) as info:
        tool.export(KD, wide, str(out))
    message = str(info.value)
    assert 'wide.pth' in message and 'mis-shaped keys' in message
    assert 'backbone.conv1.weight: checkpoint (8, 1, 3, 3) vs model ' \
        '(4, 1, 3, 3)' in message
    assert not out.exists()
    with pytest.warns(UserWarning, match='Exporting anyway'):
        tool.export(KD, wide, str(out), allow_partial_load=True)
    assert out.exists()


def test_not_a_checkpoint_is_named(tool, tmp_path):
    bad = tmp_path / 'epoch_9.pth'
    bad.write_bytes(b'')
    with pytest.raises(ValueError, match='epoch_9.pth is empty'):
        tool.export(KD, str(bad), str(tmp_path / 'student.pth'))


def test_command_line_refusals(ckpt, tmp_path):
    out = tmp_path / 'student.pth'
    out.write_bytes(b'keep me')
    proc = run_tool('export_student.py', KD, ckpt, str(out), check=False)
    assert proc.returncode != 0
    assert '--force' in proc.stderr
    assert 'Exported' not in proc.stdout
    assert out.read_bytes() == b'keep me'
    proc = run_tool('export_student.py', KD, ckpt, str(out), '--force')
    assert 'Exported' in proc.stdout
