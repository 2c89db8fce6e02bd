"""tools/analysis_tools/list_taps.py: listing, --pair fragments, errors."""
import importlib.util
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmkd_contrast  # noqa: F401
from mmkd_contrast.analysis import TapToolError, advise_pair
from mmkd_contrast.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICK = osp.join(ROOT, 'configs', 'quickstart')
KD = osp.join(QUICK, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
LFCC = osp.join(QUICK, 'lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py')
STUDENT_ONLY = osp.join(QUICK, 'student_resnet18-w4_1xb64_mnist5k.py')

_spec = importlib.util.spec_from_file_location(
    'list_taps', osp.join(ROOT, 'tools', 'analysis_tools', 'list_taps.py'))
list_taps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(list_taps)


def run(capsys, *argv):
    list_taps.main(list(argv))
    return capsys.readouterr().out


def row(out, path):
    """The listing line of ``path``."""
    lines = [line for line in out.splitlines()
             if line.split() and line.split()[0] == path]
    assert lines, f'{path} not listed in:\n{out}'
    return lines[0]


def test_cnn_listing_with_shapes_depth_and_used_taps(capsys):
    out = run(capsys, KD, '--depth', '2')
    assert 'dummy batch: 2 x 28x28 images' in out
    assert '(2, 32, 4, 4)' in row(out, 'backbone.layer4')  # student first
    assert '<- student_taps.logits' in row(out, 'head.fc')
    assert 'tuple[(2, 32)]' in row(out, 'neck')
    assert not re.search(r'backbone\.layer4\.0 ', out)  # depth 3: hidden
    teacher = out.split('== teacher')[1]
    assert '(2, 128, 4, 4)' in row(teacher, 'backbone.layer4')


def test_vit_tokens_grep_and_only(capsys):
    out = run(capsys, LFCC, '--only', 'teacher', '--grep',
              r'layers\.\d$')
    assert '== student' not in out
    assert '(2, 17, 64)' in row(out, 'backbone.layers.3')
    assert '<- teacher_taps.stage4' in row(out, 'backbone.layers.3')
    assert all('layers.' in line for line in out.splitlines()[2:])


def fragments(out):
    """Each printed fragment's method and ``model`` dict."""
    found = {}
    for block in out.split('\n# --- ')[1:]:
        method = block.split(':', 1)[0]
        code = block[block.index('model = dict('):]
        namespace = {}
        exec(code, namespace)
        found[method] = namespace['model']
    return found


def test_pair_fragments_paste_into_a_config_and_train(capsys):
    out = run(capsys, LFCC, '--pair', 'backbone.layer4',
              'backbone.layers.3')
    assert 'student backbone.layer4 (2, 32, 4, 4)' in out
    assert 'teacher backbone.layers.3 (2, 17, 64)' in out
    assert re.search(r'KD +no: KD needs logits', out)
    found = fragments(out)
    assert set(found) == {'CRD', 'FeatureAlign', 'MSDCRD', 'LFCC'}
    assert found['MSDCRD']['connectors']['t_msdcrd'] == dict(
        type='mmkd_contrast.TokenToMap', num_extra_tokens=1)

    dataset = DATASETS.build(
        dict(type='EmbeddedMNIST', split='test', indices=4,
             pipeline=[dict(type='PackInputs')]))
    batch = pseudo_collate([dataset[i] for i in range(4)])
    for method, fragment in found.items():
        cfg = Config.fromfile(LFCC)
        if method == 'CRD':
            fragment['distill_losses']['crd'].update(
                num_samples=len(dataset), num_negatives=2)
        cfg.merge_from_dict(dict(model=fragment))
        cfg.model.teacher_ckpt = None
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        name = next(iter(fragment['distill_losses']))
        value = losses[f'distill.loss_{name}']
        assert torch.isfinite(value), method
        sum(losses.values()).backward()


def test_pair_picks_tuple_elements(capsys):
    out = run(capsys, KD, '--pair', 'backbone[0]', 'backbone[-1]')
    found = fragments(out)
    assert found['MSDCRD']['student_taps'] == dict(
        feat=dict(path='backbone', index=0))
    assert found['MSDCRD']['connectors']['s_msdcrd'] == dict(
        type='mmkd_contrast.ChannelAligner', in_channels=32,
        out_channels=128)
    assert 'KD' not in found  # (2, 32, 4, 4) vs (2, 128, 4, 4)
    out = run(capsys, KD, '--pair', 'head.fc', 'head.fc')
    assert fragments(out)['KD']['loss_inputs'] == dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits'))


def test_config_without_teacher_is_named():
    with pytest.raises(TapToolError, match='model.student is missing'):
        list_taps.main([STUDENT_ONLY])


def test_missing_path_gets_the_closest_ones():
    with pytest.raises(TapToolError,
                       match=r"student path 'backbone.layer9' is not a "
                       r"module.*backbone.layer"):
        list_taps.main([KD, '--pair', 'backbone.layer9', 'head.fc'])


def test_tuple_output_without_index_says_which_to_pick():
    with pytest.raises(TapToolError,
                       match=r"teacher path 'backbone.patch_embed' gives "
                       r"tuple\[\(2, 16, 64\), tuple\[4, 4\]\].*"
                       r"backbone.patch_embed\[1\]"):
        list_taps.main([LFCC, '--pair', 'head.fc', 'backbone.patch_embed'])


def test_incompatible_pair_names_both_paths_and_shapes(monkeypatch):
    monkeypatch.setattr(list_taps, 'tap_output',
                        lambda records, model, role, text: torch.zeros(
                            (2, 3, 4, 5, 6) if role == 'student' else (2,)))
    with pytest.raises(TapToolError) as err:
        list_taps.print_pair(dict(student=None, teacher=None),
                             dict(student={}, teacher={}), 'odd', 'flat')
    text = str(err.value)
    assert 'student odd (2, 3, 4, 5, 6)' in text
    assert 'teacher flat (2,)' in text
    assert 'KD:' in text and 'LFCC:' in text


def test_advise_pair_rejects_what_the_losses_reject():
    results = {r['method']: r for r in advise_pair(torch.randn(2, 10),
                                                   torch.randn(2, 100))}
    assert not results['KD']['ok']
    assert results['CRD']['ok']
    assert not results['MSDCRD']['ok'] and 'map' in results['MSDCRD'][
        'reason']


def test_input_size_from_the_pipeline_and_the_error_without_one(capsys):
    out = run(capsys, KD, '--input-size', '32', '32', '--grep', 'layer4$')
    assert '(2, 32, 4, 4)' in row(out, 'backbone.layer4')  # 32 / 8
    cfg = Config(dict(model=dict(student=dict(type='X')),
                      test_dataloader=dict(dataset=dict(type='Custom'))))
    with pytest.raises(TapToolError, match='--input-size'):
        list_taps.input_size_of(cfg)


def test_unbuildable_student_names_key_and_type():
    with pytest.raises(TapToolError,
                       match=r"model.student \(type 'NoSuchNet'\) does not "
                       'build'):
        list_taps.main([KD, '--cfg-options', 'model.student.type=NoSuchNet'])
