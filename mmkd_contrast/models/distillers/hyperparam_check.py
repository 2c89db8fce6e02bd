"""Refuse non-finite or negative temperatures and loss weights in the loss
and connector configs of a distiller, naming the config key."""
import math
import numbers

__all__ = ['check_hyperparams']

#: Argument names that are temperatures: finite and > 0.
TEMPERATURE_KEYS = ('tau', 'temperature', 'base_temperature', 'temp', 't')


def _is_temperature(key):
    return key in TEMPERATURE_KEYS or key.endswith('temperature')


def _is_weight(key):
    if key == 'class_weight':
        return False
    return key == 'weight' or key.endswith('weight') or \
        key.endswith('_weights')


def _walk(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f'{path}.{key}')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, f'{path}[{i}]')
    else:
        yield path, value


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_hyperparams(configs, prefix):
    """Check every number in ``configs`` (name to config dict).

    Every number must be finite; a temperature or a weight must be a
    number (not a string, None or a bool; ``class_weight``, a list or None
    in mmseg's and mmdet's losses, is not a weight here); a temperature
    (``tau``, ``temperature``, ``*temperature``) must be > 0; a weight
    (``loss_weight``, ``*weight``) must be >= 0 (zero stays allowed, to
    switch a term off in ablations).
    Modules given already built are not inspected.

    Args:
        configs (dict | None): E.g. the ``distill_losses`` argument.
        prefix (str): The config key of ``configs``, for the message, e.g.
            ``'model.distill_losses'``.

    Raises:
        ValueError: Names the first offending key and its value.
        TypeError: A temperature or weight is not a number; names the key.
    """
    for name, cfg in (configs or {}).items():
        if not isinstance(cfg, dict):
            continue
        for path, value in _walk(cfg, f'{prefix}.{name}'):
            key = path.rsplit('.', 1)[-1]
            if not _is_number(value):
                if _is_temperature(key) or _is_weight(key):
                    raise TypeError(
                        f'{path} is {value!r} ({type(value).__name__}): '
                        'it must be a number')
                continue
            if not math.isfinite(value):
                raise ValueError(f'{path} is {value}: it must be a finite '
                                 'number')
            if _is_temperature(key) and value <= 0:
                raise ValueError(f'{path} is {value}: a temperature must be '
                                 'positive')
            if _is_weight(key) and value < 0:
                raise ValueError(f'{path} is {value}: a loss weight must be '
                                 '>= 0 (0 switches the term off)')
