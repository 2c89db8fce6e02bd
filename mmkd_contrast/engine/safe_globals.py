"""Let weights-only ``torch.load`` read mmengine checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses
any global it does not know. A checkpoint written by mmengine's Runner holds a
few: numpy arrays, scalars and dtypes (random states, log history) and
mmengine's ``HistoryBuffer`` (the message hub), whose statistics methods are
pickled as ``getattr(HistoryBuffer, 'mean')``.

We allow-list exactly those, and bind ``builtins.getattr`` to a function that
only hands out ``HistoryBuffer``'s statistics methods. Weights-only loading
stays on, so a checkpoint that carries any other callable is still refused.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer


# HistoryBuffer's built-in statistics; custom ones registered through
# ``HistoryBuffer.register_statistics`` are accepted too.
_BUILTIN_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name, *default):
    """``getattr`` restricted to HistoryBuffer's statistics methods."""
    allowed = name in _BUILTIN_STATISTICS or \
        name in HistoryBuffer._statistics_methods
    if obj is HistoryBuffer and allowed:
        return getattr(obj, name)
    raise torch.serialization.pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only HistoryBuffer statistics methods may be looked up.')


def _numpy_globals():
    core = getattr(np, '_core', None) or np.core
    multiarray = core.multiarray
    types = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar]
    # numpy >= 1.25 pickles dtypes through their classes, e.g. Float64DType.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        types += [
            cls for cls in vars(dtypes).values()
            if isinstance(cls, type) and issubclass(cls, np.dtype)
        ]
    return types


_REGISTERED = False


def register_mmengine_safe_globals():
    """Allow-list the types of mmengine checkpoints for weights-only loading.

    Safe to call more than once.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(
        _numpy_globals() + [
            HistoryBuffer,
            (_history_buffer_getattr, 'builtins.getattr'),
        ])
    _REGISTERED = True
