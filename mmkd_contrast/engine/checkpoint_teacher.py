"""Let a distillation checkpoint supply the teacher it carries.

Every distillation checkpoint holds the frozen teacher's weights under
``teacher.*``. Testing it, resuming from it or starting from it with
``load_from`` therefore needs neither the teacher's original file nor its
``Pretrained`` init: the Runner loads the teacher from the checkpoint.
"""
import logging
import os.path as osp

import torch
from mmengine.logging import print_log

from .checkpoint_loading import (CheckpointError, load_checkpoint_file,
                                 state_dict_of)

__all__ = ['checkpoint_has_teacher', 'teacher_from_checkpoint']

#: ``init_cfg`` types that load a checkpoint (mmengine's PretrainedInit).
PRETRAINED_TYPES = ('Pretrained', 'PretrainedInit', 'mmengine.Pretrained')


def is_pretrained(entry):
    """Whether an ``init_cfg`` entry loads a checkpoint."""
    return isinstance(entry, dict) and entry.get('type') in PRETRAINED_TYPES


def without_pretrained(init_cfg):
    """``init_cfg`` (a dict, a list of them or None) without the entries
    that load a checkpoint; None when nothing is left."""
    if isinstance(init_cfg, (list, tuple)):
        return [e for e in init_cfg if not is_pretrained(e)] or None
    return None if is_pretrained(init_cfg) else init_cfg


def checkpoint_has_teacher(filename):
    """Whether the local checkpoint ``filename`` holds ``teacher.*``
    weights. Unreadable or remote files answer False (the Runner reports
    them when it loads them)."""
    if not isinstance(filename, str) or '://' in filename or \
            not osp.isfile(filename):
        return False
    try:
        # mmap: only the key names are needed, not the tensors.
        ckpt = torch.load(filename, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # noqa: BLE001  not a zip archive: read it whole
        try:
            ckpt = load_checkpoint_file(filename)
        except (CheckpointError, OSError):
            return False
    try:
        state = state_dict_of(ckpt, filename)
    except CheckpointError:
        return False
    return any(str(k).startswith('teacher.') for k in state)


def _drop_pretrained(cfg):
    """Remove ``Pretrained`` entries from every ``init_cfg`` in ``cfg``;
    return how many there were."""
    dropped = 0
    if isinstance(cfg, dict):
        init_cfg = cfg.get('init_cfg')
        entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        found = sum(is_pretrained(e) for e in entries)
        if found:
            cfg['init_cfg'] = without_pretrained(init_cfg)
            dropped += found
        for value in cfg.values():
            dropped += _drop_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            dropped += _drop_pretrained(value)
    return dropped


def teacher_from_checkpoint(cfg, filename):
    """Take the teacher's weights from ``filename`` instead of its sources.

    When ``cfg.model`` is a distiller and ``filename`` holds ``teacher.*``
    weights, ``model.teacher_ckpt`` is set to None and ``Pretrained`` init
    configs inside ``model.teacher`` are removed, so that building the
    model does not need those files; the Runner then loads the teacher from
    ``filename`` (strictly, through the checkpoint match check).

    Args:
        cfg (Config): The config, changed in place.
        filename (str): The checkpoint the Runner will load.

    Returns:
        bool: Whether the config was changed.
    """
    model = cfg.get('model')
    if not isinstance(model, dict) or 'teacher' not in model or \
            not checkpoint_has_teacher(filename):
        return False
    original = model.get('teacher_ckpt')
    model['teacher_ckpt'] = None
    dropped = _drop_pretrained(model['teacher'])
    replaced = [f'model.teacher_ckpt ({original})'] if original else []
    if dropped:
        replaced.append('the Pretrained init_cfg of model.teacher')
    if replaced:
        print_log(
            f'The teacher weights come from {filename} (it holds every '
            f'teacher.* weight), not from {" and ".join(replaced)}.',
            logger='current', level=logging.INFO)
    return True
