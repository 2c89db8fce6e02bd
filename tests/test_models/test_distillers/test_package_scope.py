"""Nested configs build in the scope of the package their type names.

A stand-in package ``i15pkg`` (its own registry, a child of mmengine's root
like mmseg's and mmdet's) has a ``Net`` whose backbone is an unscoped
``Backbone`` registered both there and in mmkd_contrast's registry: the
distiller must pick the package's, as it must pick mmseg's ``ResNetV1c``
over mmpretrain's (tests/test_models/test_distillers/test_mmseg_pair.py
checks that with the real mmseg).
"""
import sys
import types

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import Registry

from mmkd_contrast.utils import build_in_scope, package_scope
from mmkd_contrast.registry import MODELS

SCOPE = 'i15pkg'


@pytest.fixture(scope='module')
def package():
    registry = Registry('model', parent=ROOT_MODELS, scope=SCOPE)

    class Backbone(nn.Module):

        def __init__(self, width=4):
            super().__init__()
            self.conv = nn.Conv2d(3, width, 1)
            self.origin = SCOPE

        def forward(self, x):
            return self.conv(x)

    class Net(BaseModel):

        def __init__(self, backbone, data_preprocessor=None):
            super().__init__(data_preprocessor=data_preprocessor)
            self.backbone = registry.build(backbone)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.backbone(inputs)
            if mode == 'loss':
                return dict(loss=out.mean())
            return out

    class Preprocessor(nn.Module):
        pass

    registry.register_module('Backbone', module=Backbone)
    registry.register_module('Net', module=Net)
    registry.register_module('I15Preprocessor', module=Preprocessor)
    module = types.ModuleType(f'{SCOPE}.registry')
    module.MODELS = registry
    parent = types.ModuleType(SCOPE)
    parent.registry = module
    sys.modules[SCOPE] = parent
    sys.modules[f'{SCOPE}.registry'] = module

    class OurBackbone(Backbone):

        def __init__(self, width=4):
            super().__init__(width)
            self.origin = 'mmkd_contrast'

    MODELS.register_module('Backbone', module=OurBackbone)
    yield registry
    MODELS.module_dict.pop('Backbone')
    ROOT_MODELS.children.pop(SCOPE)
    sys.modules.pop(f'{SCOPE}.registry')
    sys.modules.pop(SCOPE)


def net(**kwargs):
    return dict(type=f'{SCOPE}.Net', backbone=dict(type='Backbone'),
                **kwargs)


def test_package_scope():
    assert package_scope(dict(type='KDLoss')) == 'mmkd_contrast'
    assert package_scope(dict(type='mmpretrain.ImageClassifier')) == \
        'mmkd_contrast'
    assert package_scope(dict(type='nonexistent_pkg.Net')) == \
        'mmkd_contrast'
    assert package_scope(dict(type='mmpretrain.X'), 'mmpretrain') == \
        'mmpretrain'


def test_named_package_builds_its_nested_unscoped_types(package):
    assert package_scope(net()) == SCOPE
    model = build_in_scope(net())
    assert model.backbone.origin == SCOPE


def test_distiller_builds_student_teacher_and_preprocessor_in_scope(
        package):
    distiller = MODELS.build(
        dict(
            type='SingleTeacherDistiller',
            student=net(data_preprocessor=dict(type='BaseDataPreprocessor')),
            teacher=net(),
            # As the Runner merges a top-level data_preprocessor of a
            # package's config: unscoped, the package's type.
            data_preprocessor=dict(type='I15Preprocessor')))
    assert distiller.student.backbone.origin == SCOPE
    assert distiller.teacher.backbone.origin == SCOPE
    assert type(distiller.data_preprocessor).__name__ == 'Preprocessor'
    out = distiller(torch.zeros(1, 3, 2, 2), mode='tensor')
    assert out.shape == (1, 4, 2, 2)


def test_plugin_names_resolve_from_any_scope(package):
    """From another package's registry and from mmengine's root, the
    documented scoped form finds the plugin's classes."""
    for registry in (package, ROOT_MODELS):
        assert registry.get('mmkd_contrast.SingleTeacherDistiller') is \
            MODELS.get('SingleTeacherDistiller')
        loss = registry.build(dict(type='mmkd_contrast.KDLoss', tau=2.0))
        assert type(loss).__name__ == 'KDLoss' and loss.tau == 2.0
