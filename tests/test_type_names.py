"""Misspelled config types name the closest registered ones; the plugin's
own types can be scoped so that any default scope finds them."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmkd_contrast  # noqa: F401
from mmkd_contrast.utils import build_in_scope
from mmkd_contrast.type_names import (UnknownTypeError, close_type_names,
                                      plugin_only_types, scope_plugin_types,
                                      suggest_type_names)
from tool_helpers import QUICKSTART, run_tool

KD = f'{QUICKSTART}/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py'


@pytest.mark.parametrize('typo, expected', [
    ('LFCCLos', 'LFCCLoss'),
    ('SingleTeacherDistill', 'SingleTeacherDistiller'),
    ('ImageClasifier', 'ImageClassifier'),
    ('kdloss', 'KDLoss'),
])
def test_close_model_names(typo, expected):
    assert expected in close_type_names(typo, 'model')


def test_a_nested_typo_in_a_distiller_names_the_closest_loss():
    cfg = Config.fromfile(KD).model
    cfg.teacher_ckpt = None
    cfg.distill_losses.kd.type = 'KDLos'
    with pytest.raises(UnknownTypeError) as err:
        build_in_scope(cfg)
    assert "type='KDLos'" in str(err.value)
    assert 'KDLoss' in str(err.value).split('closest registered names:')[1]


def test_plugin_names_are_scoped_outside_the_plugin_scope():
    from mmpretrain.registry import DATASETS
    with pytest.raises(UnknownTypeError,
                       match=r'mmkd_contrast\.EmbeddedMNIST'):
        with suggest_type_names(), \
                DefaultScope.overwrite_default_scope('mmpretrain'):
            DATASETS.build(dict(type='EmbeddedMNIST', split='test'))


def test_other_key_errors_pass_through():
    with pytest.raises(KeyError) as err:
        with suggest_type_names():
            raise KeyError('something else')
    assert not isinstance(err.value, UnknownTypeError)


def test_scope_plugin_types():
    names = plugin_only_types()
    assert {'EmbeddedMNIST', 'KDLoss', 'SingleTeacherDistiller'} <= names
    # Names mmpretrain also has are never scoped.
    assert 'ImageClassifier' not in names and 'Accuracy' not in names
    cfg = dict(type='SingleTeacherDistiller',
               student=dict(type='ImageClassifier',
                            backbone=dict(type='CIFARResNet')),
               losses=[dict(type='mmkd_contrast.KDLoss')])
    assert scope_plugin_types(cfg, names) == 2
    assert cfg['type'] == 'mmkd_contrast.SingleTeacherDistiller'
    assert cfg['student']['type'] == 'ImageClassifier'
    assert cfg['student']['backbone']['type'] == 'mmkd_contrast.CIFARResNet'
    assert cfg['losses'][0]['type'] == 'mmkd_contrast.KDLoss'


def test_train_tool_suggests_for_a_misspelled_distiller(tmp_path):
    proc = run_tool('train.py', KD, '--work-dir', str(tmp_path),
                    '--cfg-options', 'model.type=SingleTeacherDistill',
                    check=False)
    assert proc.returncode != 0
    assert 'UnknownTypeError' in proc.stderr
    assert 'closest registered names: SingleTeacherDistiller' in proc.stderr


def _unscoped_plugin_types(cfg, names, path='cfg'):
    found = []
    if isinstance(cfg, dict):
        if cfg.get('type') in names:
            found.append(f"{path}.type='{cfg['type']}'")
        for key, value in cfg.items():
            found += _unscoped_plugin_types(value, names, f'{path}.{key}')
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            found += _unscoped_plugin_types(value, names, f'{path}[{i}]')
    return found


def test_shipped_configs_scope_the_plugin_types():
    """Every shipped config writes this plugin's types mmkd_contrast.X, so
    that a user's config with default_scope='mmpretrain' that inherits it
    still resolves them."""
    import glob
    import os.path as osp
    from tool_helpers import ROOT
    names = plugin_only_types()
    bad = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                 recursive=True)):
        found = _unscoped_plugin_types(Config.fromfile(path).to_dict(),
                                       names)
        if found:
            bad[osp.relpath(path, ROOT)] = found
    assert not bad


def test_an_mmpretrain_scoped_config_inherits_the_embedded_dataset(tmp_path):
    from mmpretrain.registry import DATASETS
    from tool_helpers import ROOT
    config = tmp_path / 'mine.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/_base_/datasets/embedded_mnist.py']\n"
        "default_scope = 'mmpretrain'\n"
        "custom_imports = dict(imports=['mmkd_contrast'])\n")
    cfg = Config.fromfile(str(config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataset = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(dataset) == 1000
