"""Compare a checkpoint's weights with a model, key by key and shape by
shape, and describe what does not fit."""
import torch

__all__ = ['StateDictMismatch', 'match_state_dict']

_SHOWN = 10


def _listed(keys):
    more = f' ... and {len(keys) - _SHOWN} more' if len(keys) > _SHOWN \
        else ''
    return f'{keys[:_SHOWN]}{more}'


class StateDictMismatch:
    """The keys of a checkpoint that do not fit a model.

    Attributes:
        missing (list[str]): In the model, not in the checkpoint.
        unexpected (list[str]): In the checkpoint, not in the model.
        mis_shaped (list[str]): In both, with different shapes; each entry
            reads ``'key: checkpoint (a, b) vs model (c, d)'``.
    """

    def __init__(self, missing, unexpected, mis_shaped):
        self.missing = missing
        self.unexpected = unexpected
        self.mis_shaped = mis_shaped

    def __bool__(self):
        return bool(self.missing or self.unexpected or self.mis_shaped)

    def describe(self):
        """One line per kind of mismatch, each listing its keys."""
        parts = []
        if self.missing:
            parts.append(f'missing keys ({len(self.missing)}): '
                         f'{_listed(self.missing)}')
        if self.unexpected:
            parts.append(f'unexpected keys ({len(self.unexpected)}): '
                         f'{_listed(self.unexpected)}')
        if self.mis_shaped:
            parts.append(f'mis-shaped keys ({len(self.mis_shaped)}): '
                         f'{_listed(self.mis_shaped)}')
        return '\n'.join(parts)


def match_state_dict(model_state, ckpt_state, strip_prefix='module.'):
    """Compare ``ckpt_state`` with ``model_state``.

    Args:
        model_state (dict): The model's ``state_dict()``.
        ckpt_state (dict): The checkpoint's weights.
        strip_prefix (str): A prefix removed from checkpoint keys first, as
            mmengine does when it loads (the ``module.`` of a wrapped
            model).

    Returns:
        StateDictMismatch: False when every key fits.
    """
    if strip_prefix:
        ckpt_state = {
            k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v
            for k, v in ckpt_state.items()
        }
    missing = sorted(set(model_state) - set(ckpt_state))
    unexpected = sorted(set(ckpt_state) - set(model_state))
    mis_shaped = []
    for key in sorted(set(model_state) & set(ckpt_state)):
        own, theirs = model_state[key], ckpt_state[key]
        if isinstance(own, torch.Tensor) and isinstance(
                theirs, torch.Tensor) and own.shape != theirs.shape:
            mis_shaped.append(f'{key}: checkpoint {tuple(theirs.shape)} vs '
                              f'model {tuple(own.shape)}')
    return StateDictMismatch(missing, unexpected, mis_shaped)
