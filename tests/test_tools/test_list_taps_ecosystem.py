"""list_taps.py on the mmseg and mmdet distillers of configs/mmseg and
configs/mmdet (skipped without mmseg / mmdet and full mmcv's ops)."""
import importlib.util
import os.path as osp

import pytest
from ecosystem_helpers import ecosystem_missing, kept_global_state

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEG = osp.join(ROOT, 'configs', 'mmseg',
               'msdcrd_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_'
               'cityscapes-512x1024.py')
DET = osp.join(ROOT, 'configs', 'mmdet',
               'msdcrd_retinanet-r101_retinanet-r50_fpn_1x_coco.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'list_taps',
        osp.join(ROOT, 'tools', 'analysis_tools', 'list_taps.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(out, path):
    return next(line for line in out.splitlines()
                if line.split() and line.split()[0] == path)


@pytest.mark.parametrize('package', ['mmseg', 'mmdet'])
def test_listing_and_pair_on_real_models(package, capsys):
    reason = ecosystem_missing(package)
    if reason:
        pytest.skip(f'real {package} models: {reason}')
    list_taps = load_tool()
    config = SEG if package == 'mmseg' else DET
    with kept_global_state():
        # The config's own size (512x1024, 800x1333) is right but slow on
        # a CPU; the shapes scale with it.
        list_taps.main([config, '--input-size', '64', '128', '--depth', '1',
                        '--pair', 'backbone[3]', 'backbone[3]'])
    out = capsys.readouterr().out
    assert 'student backbone[3] (2, 512, ' in out if package == 'mmseg' \
        else 'student backbone[3] (2, 2048, 2, 4)' in out
    assert 'teacher backbone[3] (2, 2048, ' in out
    assert 'MSDCRD        fits' in out
    with kept_global_state():
        list_taps.main([config, '--input-size', '64', '128', '--depth', '2'])
    out = capsys.readouterr().out
    if package == 'mmseg':
        # EncoderDecoder calls decode_head.forward directly: only its
        # children run through __call__ and are listed.
        assert 'EncoderDecoder' in out
        assert '(2, 19, 8, 16)' in row(out, 'decode_head.conv_seg')
    else:
        assert 'RetinaNet' in out
        assert 'tuple[(2, 256, 8, 16), (2, 256, 4, 8)' in out  # FPN
        assert '<- student_taps' in out
