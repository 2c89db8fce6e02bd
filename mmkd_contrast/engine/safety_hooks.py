"""Add this project's checkpoint and data checks to any config run by
``tools/train.py`` and ``tools/test.py``."""
from mmengine.config import ConfigDict

__all__ = ['add_safety_hooks']

_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook',
                     'mmpretrain.CheckpointHook',
                     'mmkd_contrast.CheckpointHook')


def _short(kind):
    return str(kind).split('.')[-1]


def add_safety_hooks(cfg, allow_partial_load=False):
    """Make a config's runner write checkpoints atomically and check what it
    loads and trains on.

    * ``default_hooks.checkpoint`` of type ``CheckpointHook`` becomes an
      :class:`AtomicCheckpointHook` with the same arguments.
    * :class:`CheckpointMatchHook` (``strict=not allow_partial_load``),
      :class:`TrainDataCheckHook`, :class:`DistillEpochHook` (the epoch of
      epoch-dependent losses) and :class:`TeacherWeightsHook` are
      appended to ``custom_hooks`` unless the config already has them;
      an existing ``CheckpointMatchHook``
      keeps its settings unless ``allow_partial_load`` is set.

    Args:
        cfg (Config): The config, modified in place.
        allow_partial_load (bool): Let ``load_from`` (and the checkpoint of
            ``tools/test.py``) load only the keys that fit, with a warning.

    Returns:
        Config: ``cfg``.
    """
    hooks = cfg.get('default_hooks')
    ckpt = hooks.get('checkpoint') if hooks else None
    if isinstance(ckpt, dict) and ckpt.get('type') in _CHECKPOINT_HOOKS:
        ckpt['type'] = 'mmkd_contrast.AtomicCheckpointHook'
    custom = list(cfg.get('custom_hooks') or [])
    present = {_short(h.get('type')): h for h in custom
               if isinstance(h, dict)}
    match = present.get('CheckpointMatchHook')
    if match is None:
        custom.append(ConfigDict(type='mmkd_contrast.CheckpointMatchHook',
                                 strict=not allow_partial_load))
    elif allow_partial_load:
        match['strict'] = False
    if 'TrainDataCheckHook' not in present:
        custom.append(ConfigDict(type='mmkd_contrast.TrainDataCheckHook'))
    if 'DistillEpochHook' not in present:
        custom.append(ConfigDict(type='mmkd_contrast.DistillEpochHook'))
    if 'TeacherWeightsHook' not in present:
        custom.append(ConfigDict(type='mmkd_contrast.TeacherWeightsHook'))
    cfg.custom_hooks = custom
    return cfg
