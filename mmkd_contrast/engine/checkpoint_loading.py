"""Load checkpoints weights-only, whatever the environment says.

torch >= 2.6 loads weights-only *by default*, but
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (common advice for old checkpoints)
turns that default off for every call that does not pass ``weights_only``,
and mmengine's checkpoint loaders pass nothing (``torch.hub``'s URL loader
even passes ``weights_only=False``). torch lets that variable override only
an *unset* ``weights_only``, and lets ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1``
override any value. So:

* :func:`load_checkpoint_file` reads a local file with an explicit
  ``weights_only=True`` and turns torch's low-level errors (``EOFError`` of
  an empty file, ``IndexError`` of random bytes, a truncated archive, a
  refused global) into a :class:`CheckpointError` naming the file;
* :func:`register_weights_only_loaders` makes it mmengine's loader for local
  paths (``load_from``, ``--resume``, ``teacher_ckpt``, ``tools/test.py``,
  ``mmpretrain.get_model(pretrained=...)``) and runs every other registered
  scheme (URLs, ``open-mmlab://`` ...) under :func:`weights_only_forced`.
"""
import contextlib
import functools
import os
import os.path as osp
import pickle

import torch
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'CheckpointError', 'load_checkpoint_file', 'state_dict_of',
    'weights_only_forced', 'register_weights_only_loaders'
]

_FORCE_ON = 'TORCH_FORCE_WEIGHTS_ONLY_LOAD'
_FORCE_OFF = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


class CheckpointError(ValueError):
    """A file that is not a checkpoint this project can load safely."""


def _torch_reason(err):
    """The informative part of a torch loading error, on one line (torch's
    weights-only message wraps it in generic advice paragraphs)."""
    text = str(err)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text[text.index(marker) + len(marker):]
    generic = ('Weights only load failed', 'Check the documentation',
               'Please file an issue')
    paragraphs = [p.strip() for p in text.split('\n\n') if p.strip()]
    useful = [p for p in paragraphs if not p.startswith(generic)]
    reason = (useful or paragraphs or [''])[0].splitlines()
    reason = reason[0].strip() if reason else ''
    return f'{type(err).__name__}: {reason}' if reason else \
        type(err).__name__


def load_checkpoint_file(filename, map_location='cpu'):
    """Load a local checkpoint with ``torch.load(weights_only=True)``.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str | callable): As for ``torch.load``.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: ``filename`` is not a file.
        CheckpointCorruptError: (a ``CheckpointError``) Its bytes
            changed after it was written (see ``check_integrity``).
        CheckpointError: The file is empty, not a torch checkpoint
            (random bytes, a text file, a truncated write), or holds
            pickled objects that weights-only loading refuses (code that
            would run on loading). The message names the file.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    if osp.getsize(filename) == 0:
        raise CheckpointError(
            f'{filename} is empty (0 bytes): it is not a checkpoint. An '
            'interrupted copy or save leaves such files; use another one.')
    from .checkpoint_integrity import check_integrity
    check_integrity(filename)
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f'{filename} was refused by weights-only loading: it is not a '
            'torch checkpoint, or it holds pickled objects other than '
            'tensors and plain data, which could run code when loaded '
            f'({_torch_reason(err)}). Weights-only loading is always on '
            f'here, whatever {_FORCE_OFF} says; re-save the weights with '
            'torch.save(model.state_dict()) from a trusted source.'
        ) from err
    except (EOFError, IndexError, RuntimeError, ValueError, KeyError,
            UnicodeDecodeError, AttributeError, TypeError) as err:
        raise CheckpointError(
            f'{filename} is not a checkpoint torch can read (a truncated '
            f'or foreign file?): {_torch_reason(err)}') from err


def state_dict_of(checkpoint, filename):
    """The model weights of a loaded checkpoint.

    Args:
        checkpoint: What :func:`load_checkpoint_file` returned: an mmengine
            checkpoint (weights under ``state_dict``) or a bare state dict.
        filename (str): The file it came from, for the error message.

    Returns:
        dict: Parameter name to tensor.

    Raises:
        CheckpointError: It holds no dict of tensors.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else checkpoint
    if not isinstance(state, dict) or not any(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f'{filename} holds no model weights: expected a state dict of '
            f'tensors (or one under "state_dict"), got '
            f'{type(state).__name__}'
            + (f' with keys {list(state)[:5]}'
               if isinstance(state, dict) else ''))
    return state


@contextlib.contextmanager
def weights_only_forced():
    """Force every ``torch.load`` inside to be weights-only.

    Sets ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` (which torch applies even to an
    explicit ``weights_only=False``) and hides
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` (torch refuses both at once); both
    are restored on exit.
    """
    saved = {key: os.environ.get(key) for key in (_FORCE_ON, _FORCE_OFF)}
    os.environ[_FORCE_ON] = '1'
    os.environ.pop(_FORCE_OFF, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _local_loader(filename, map_location=None):
    return load_checkpoint_file(filename, map_location=map_location)


# mmengine logs ``loader.__name__[10:]`` as the backend's name ("local").
_local_loader.__name__ = 'load_from_local'


def _forced(loader):
    """Wrap an mmengine scheme loader so that it loads weights-only."""
    if getattr(loader, '_mmkd_weights_only', False):
        return loader

    @functools.wraps(loader)
    def wrapped(*args, **kwargs):
        with weights_only_forced():
            return loader(*args, **kwargs)

    wrapped._mmkd_weights_only = True
    return wrapped


_local_loader._mmkd_weights_only = True


def register_weights_only_loaders():
    """Make every mmengine checkpoint loader weights-only.

    The local-path loader becomes :func:`load_checkpoint_file`; the loaders
    of the other schemes run under :func:`weights_only_forced`. Safe to call
    more than once.
    """
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        new = _local_loader if prefix == '' else _forced(loader)
        if new is not loader:
            CheckpointLoader.register_scheme(prefix, new, force=True)
