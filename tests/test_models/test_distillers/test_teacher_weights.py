"""Where the teacher's weights come from: teacher_ckpt, a Pretrained
init_cfg inside the teacher, or a distillation checkpoint loaded later."""
import pytest
import torch
from mmengine.config import Config

import mmkd_contrast  # noqa: F401
from mmkd_contrast.models.distillers.teacher_weights import \
    RandomTeacherError
from mmkd_contrast.utils import build_in_scope
from tool_helpers import QUICKSTART

KD = f'{QUICKSTART}/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py'


def kd_cfg(**model):
    cfg = Config.fromfile(KD)
    cfg.model.teacher_ckpt = None
    cfg.model.update(model)
    return cfg.model


def teacher_file(tmp_path, seed=3, prefix=''):
    """A trained-looking teacher checkpoint and its state dict."""
    torch.manual_seed(seed)
    teacher = build_in_scope(Config.fromfile(KD).model.teacher)
    state = {prefix + k: v for k, v in teacher.state_dict().items()}
    path = tmp_path / f'teacher{seed}.pth'
    torch.save(dict(state_dict=state), path)
    return str(path), teacher.state_dict()


def same_weights(module, state):
    own = module.state_dict()
    return own.keys() == state.keys() and all(
        torch.equal(own[k], state[k]) for k in own)


def test_no_weights_is_refused_unless_allowed():
    model = build_in_scope(kd_cfg())
    assert model.teacher_weights is None
    with pytest.raises(RandomTeacherError) as err:
        model.check_teacher_weights()
    for way in ('model.teacher_ckpt', "type='Pretrained'", '--resume',
                '--random-teacher', 'allow_random_teacher'):
        assert way in str(err.value)
    build_in_scope(kd_cfg(allow_random_teacher=True)).check_teacher_weights()


def test_teacher_ckpt_is_recorded(tmp_path):
    path, state = teacher_file(tmp_path)
    model = build_in_scope(kd_cfg(teacher_ckpt=path))
    assert same_weights(model.teacher, state)
    assert path in model.teacher_weights
    model.check_teacher_weights()


def test_pretrained_init_cfg_of_the_teacher_is_honoured(tmp_path):
    path, state = teacher_file(tmp_path)
    cfg = kd_cfg()
    cfg.teacher.init_cfg = dict(type='Pretrained', checkpoint=path)
    model = build_in_scope(cfg)
    assert same_weights(model.teacher, state)
    assert 'teacher.init_cfg' in model.teacher_weights
    model.check_teacher_weights()
    # Honoured once: the Runner's init_weights() changes nothing.
    model.init_weights()
    assert same_weights(model.teacher, state)


def test_pretrained_backbone_only_leaves_the_teacher_untrained(tmp_path):
    """A Pretrained init on the backbone (prefix as mmpretrain writes it)
    loads the backbone, but the head stays random: not a trained teacher."""
    path, state = teacher_file(tmp_path)
    cfg = kd_cfg()
    cfg.teacher.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=path, prefix='backbone.')
    model = build_in_scope(cfg)
    backbone = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    assert same_weights(model.teacher.backbone, backbone)
    assert model.teacher_weights is None
    with pytest.raises(RandomTeacherError):
        model.check_teacher_weights()


def test_pretrained_init_cfg_is_strict(tmp_path):
    path, _ = teacher_file(tmp_path)
    saved = torch.load(path)
    saved['state_dict'].pop('head.fc.bias')
    torch.save(saved, path)
    cfg = kd_cfg()
    cfg.teacher.init_cfg = dict(type='Pretrained', checkpoint=path)
    with pytest.raises(KeyError, match=r'teacher\.init_cfg.*head\.fc\.bias'):
        build_in_scope(cfg)
    cfg.teacher.init_cfg = dict(type='Pretrained', checkpoint='no/file.pth')
    with pytest.raises(FileNotFoundError, match='teacher.init_cfg'):
        build_in_scope(cfg)


def test_teacher_ckpt_supersedes_a_pretrained_init(tmp_path):
    path, state = teacher_file(tmp_path, seed=3)
    other, _ = teacher_file(tmp_path, seed=4)
    cfg = kd_cfg(teacher_ckpt=path)
    cfg.teacher.init_cfg = dict(type='Pretrained', checkpoint=other)
    model = build_in_scope(cfg)
    assert same_weights(model.teacher, state)


def test_a_checkpoint_with_the_teacher_gives_it_weights(tmp_path):
    path, state = teacher_file(tmp_path)
    source = build_in_scope(kd_cfg(teacher_ckpt=path))
    model = build_in_scope(kd_cfg())
    assert model.teacher_weights is None
    # A checkpoint without the teacher's keys (a student-only one) does not.
    student_only = {k: v for k, v in source.state_dict().items()
                    if not k.startswith('teacher.')}
    model.load_state_dict(student_only, strict=False)
    assert model.teacher_weights is None
    model.load_state_dict(source.state_dict())
    assert same_weights(model.teacher, state)
    model.check_teacher_weights()
