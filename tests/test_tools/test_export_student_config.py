import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config
from tool_helpers import QUICKSTART, ROOT


def load_export_tool():
    spec = importlib.util.spec_from_file_location(
        'export_student', osp.join(ROOT, 'tools', 'export_student.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('config', [
    'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
])
def test_student_config_is_plain_mmpretrain(config):
    tool = load_export_tool()
    cfg = tool.student_config(Config.fromfile(osp.join(QUICKSTART, config)))
    assert cfg.default_scope == 'mmpretrain'
    assert 'custom_imports' not in cfg
    pre = cfg.model.data_preprocessor
    # No type means ImageClassifier's default, ClsDataPreprocessor.
    assert pre.get('type', 'ClsDataPreprocessor') == 'ClsDataPreprocessor'
    assert pre.mean == [33.32] and pre.std == [78.57]
    assert 'teacher' not in cfg.model


def test_student_on_plugin_backbone_gets_custom_imports():
    tool = load_export_tool()
    cfg = tool.student_config(
        Config.fromfile(
            osp.join(ROOT, 'configs', 'kd',
                     'kd_resnet32x4_resnet8x4_1xb64_cifar100.py')))
    assert cfg.custom_imports.imports == ['mmkd_contrast']


def test_non_distiller_checkpoint_is_refused():
    tool = load_export_tool()
    with pytest.raises(KeyError, match='student'):
        tool.student_state_dict({'backbone.conv.weight': 0})
