import os.path as osp

from mmengine.config import Config

from mmkd_contrast.engine import add_safety_hooks

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KD = osp.join(ROOT, 'configs', 'quickstart',
              'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def types(cfg):
    return [h['type'] for h in cfg.custom_hooks]


def test_checkpoint_hook_becomes_atomic_with_its_arguments():
    cfg = add_safety_hooks(Config.fromfile(KD))
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.type == 'mmkd_contrast.AtomicCheckpointHook'
    assert ckpt.max_keep_ckpts == 3 and ckpt.save_best == 'auto'
    assert types(cfg) == [
        'mmkd_contrast.RandomStateHook', 'mmkd_contrast.FiniteLossHook',
        'mmkd_contrast.TeacherWeightsHook', 'mmkd_contrast.TeacherLogitsHook',
        'mmkd_contrast.DistillEpochHook',
        'mmkd_contrast.CheckpointMatchHook', 'mmkd_contrast.TrainDataCheckHook'
    ]
    assert cfg.custom_hooks[5].strict is True


def test_idempotent_and_partial_load_flag():
    cfg = add_safety_hooks(add_safety_hooks(Config.fromfile(KD)))
    assert len(cfg.custom_hooks) == 7
    add_safety_hooks(cfg, allow_partial_load=True)
    assert len(cfg.custom_hooks) == 7
    assert cfg.custom_hooks[5].strict is False


def test_a_config_without_hooks():
    cfg = add_safety_hooks(Config(dict(model=dict(type='X'))),
                           allow_partial_load=True)
    assert types(cfg) == ['mmkd_contrast.CheckpointMatchHook',
                          'mmkd_contrast.TrainDataCheckHook',
                          'mmkd_contrast.DistillEpochHook',
                          'mmkd_contrast.TeacherWeightsHook']
    assert cfg.custom_hooks[0].strict is False
