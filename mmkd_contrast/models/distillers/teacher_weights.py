"""Where the teacher's weights come from, and loading them strictly.

A teacher gets trained weights in one of three ways, and the distiller
records which one in ``teacher_weights``:

* ``teacher_ckpt``: a file loaded strictly when the distiller is built;
* an mmengine ``init_cfg=dict(type='Pretrained', checkpoint=...)`` on the
  teacher or on one of its modules, honoured when the distiller is built
  (with the same weights-only, strict-key loading as ``teacher_ckpt``);
* a distillation checkpoint that carries every ``teacher.*`` weight, loaded
  by the Runner (``load_from``, ``--resume``, ``tools/test.py``).

A teacher that got none of them keeps random weights; the training tools
refuse to distil from it (:class:`~mmkd_contrast.engine.TeacherWeightsHook`)
unless ``allow_random_teacher=True``.
"""
import copy
import logging
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from mmkd_contrast.engine.checkpoint_loading import (CheckpointError,
                                                     state_dict_of)
from mmkd_contrast.engine.checkpoint_teacher import (is_pretrained,
                                                     without_pretrained)

__all__ = [
    'RandomTeacherError', 'load_strictly', 'find_pretrained_init',
    'random_teacher_message'
]


class RandomTeacherError(RuntimeError):
    """Distillation would start from a teacher without trained weights."""


def _read(filename: str, what: str) -> Dict:
    """The state dict of ``filename``, loaded weights-only on the CPU
    through mmengine's loader of its scheme (weights-only for every scheme
    once the package is imported)."""
    try:
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        return state_dict_of(ckpt, filename)
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f'{what}: checkpoint file not found: {filename}') from err
    except CheckpointError as err:
        raise CheckpointError(f'{what}: {err}') from err


def load_strictly(module: nn.Module,
                  filename: str,
                  what: str,
                  prefix: Optional[str] = None) -> None:
    """Load ``filename`` into ``module``; every key must fit.

    Args:
        module (nn.Module): Where the weights go.
        filename (str): A local path or any scheme mmengine loads.
        what (str): The config key the file came from, for messages.
        prefix (str, optional): Load only the keys under this prefix (as
            mmengine's ``Pretrained`` init does), stripped.

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointError: Not a checkpoint, or refused by weights-only
            loading.
        KeyError: Missing or unexpected keys (both listed).
        ValueError: A tensor's shape differs from the module's.
    """
    state_dict = _read(filename, what)
    state_dict = {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state_dict.items()
    }
    if prefix:
        state_dict = {
            k[len(prefix):]: v
            for k, v in state_dict.items() if k.startswith(prefix)
        }
        if not state_dict:
            raise KeyError(f'{what}: {filename} has no keys under the '
                           f'prefix {prefix!r}')
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        raise KeyError(
            f'{what}: {filename} does not match '
            f'{type(module).__name__}: missing keys ({len(missing)}): '
            f'{missing[:10]}; unexpected keys ({len(unexpected)}): '
            f'{unexpected[:10]}')
    mismatched = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items()
        if hasattr(v, 'shape') and v.shape != own[k].shape
    ]
    if mismatched:
        raise ValueError(f'{what}: {filename}: shapes do not match '
                         f'{type(module).__name__}: {mismatched[:10]}')
    module.load_state_dict(state_dict, strict=True)


def _pretrained_of(init_cfg) -> Optional[dict]:
    """The ``Pretrained`` entry of an ``init_cfg`` (a dict or a list)."""
    entries = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return next((e for e in entries if is_pretrained(e)), None)


def find_pretrained_init(teacher: nn.Module) -> List[Tuple[str, dict]]:
    """Every module of ``teacher`` whose ``init_cfg`` loads a checkpoint.

    Returns:
        list[tuple[str, dict]]: ``(module path, Pretrained init_cfg)``,
        outermost first (the teacher itself is ``''``).
    """
    found = []
    for path, module in teacher.named_modules():
        entry = _pretrained_of(getattr(module, 'init_cfg', None))
        if entry is not None:
            found.append((path, copy.deepcopy(dict(entry))))
    return found


def drop_pretrained_init(module: nn.Module) -> None:
    """Remove the ``Pretrained`` entry of ``module.init_cfg``, once it has
    been honoured (so that ``init_weights()`` cannot load it again)."""
    module.init_cfg = without_pretrained(module.init_cfg)


def load_pretrained_inits(teacher: nn.Module,
                          teacher_ckpt: Optional[str]) -> Optional[str]:
    """Honour the ``Pretrained`` init configs inside ``teacher``.

    With ``teacher_ckpt`` set they are superseded (the whole teacher is
    loaded from it afterwards); this is logged. Otherwise each is loaded
    strictly into its module.

    Returns:
        str | None: The source of the whole teacher's weights when a
        ``Pretrained`` init on the teacher itself loaded them, else None.
    """
    whole = None
    for path, entry in find_pretrained_init(teacher):
        module = teacher.get_submodule(path) if path else teacher
        key = 'teacher.' + (f'{path}.' if path else '') + 'init_cfg'
        checkpoint = entry.get('checkpoint')
        if teacher_ckpt is not None:
            print_log(
                f'{key} (Pretrained {checkpoint}) is superseded by '
                f'teacher_ckpt {teacher_ckpt}, which sets every teacher '
                'weight', logger='current', level=logging.WARNING)
        elif not checkpoint:
            raise ValueError(f'{key}: a Pretrained init_cfg needs '
                             f'"checkpoint", got {entry}')
        else:
            load_strictly(module, checkpoint, key, entry.get('prefix'))
            print_log(f'Loaded {key}: {checkpoint}', logger='current')
            if not path:
                whole = f'{key} {checkpoint}'
        drop_pretrained_init(module)
    return whole


def random_teacher_message(distiller_name: str) -> str:
    """Why a random teacher is refused, and the ways to give weights."""
    return (
        f'{distiller_name}: the teacher has no trained weights (it keeps '
        'its random initialisation), so distillation would teach the '
        'student noise. Give it weights with one of:\n'
        '  --cfg-options model.teacher_ckpt=PATH  (or set model.teacher_ckpt '
        'in the config)\n'
        "  model.teacher.init_cfg=dict(type='Pretrained', checkpoint=PATH)\n"
        '  --resume / load_from a distillation checkpoint that holds every '
        'teacher.* weight\n'
        'or, if a random teacher is really meant (a smoke test), opt in '
        'with --random-teacher (model.allow_random_teacher=True).')
