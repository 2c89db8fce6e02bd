"""Check the loss and connector configs of a distiller before anything is
built, naming the config key: every number finite, every declared
hyper-parameter in its range."""
import math
import numbers
from typing import Any, Iterator, Mapping, Optional, Tuple

from mmengine.registry import DefaultScope

from mmkd_contrast.registry import MODELS

__all__ = ['check_hyperparams']


def _walk(value: Any, path: str) -> Iterator[Tuple[str, float]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f'{path}.{key}')
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, f'{path}[{i}]')
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        yield path, float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _declared_class(kind: Any) -> Optional[type]:
    """The class a config's ``type`` names, or None if it cannot be found
    here (the build reports that)."""
    if isinstance(kind, type):
        return kind
    if not isinstance(kind, str):
        return None
    try:
        with DefaultScope.overwrite_default_scope('mmkd_contrast'):
            return MODELS.get(kind)
    except Exception:  # an unknown scope or type: the build names it
        return None


def check_hyperparams(configs: Optional[Mapping], prefix: str) -> None:
    """Check every loss (or connector) config of ``configs``.

    Every number, nested ones included, must be finite. Then every
    hyper-parameter the config's class declares in ``HYPER_PARAMS`` (see
    :class:`~mmkd_contrast.models.losses.BaseDistillLoss`) must lie in its
    declared range: the rules come from the class, not from argument
    names. A loss builds with the same checks, naming its class; here the
    error names the config key, before the student and teacher are built.
    Modules given already built are not inspected (they checked
    themselves).

    Args:
        configs (dict | None): Name to config, e.g. the ``distill_losses``
            argument.
        prefix (str): The config key of ``configs``, for the message, e.g.
            ``'model.distill_losses'``.

    Raises:
        ValueError: Names the first offending key, its value and the valid
            values.
        TypeError: A declared hyper-parameter is not a number (a string,
            None where None is not allowed, a bool); names the key.
    """
    for name, cfg in (configs or {}).items():
        if not isinstance(cfg, dict):
            continue
        for path, value in _walk(cfg, f'{prefix}.{name}'):
            if not math.isfinite(value):
                raise ValueError(f'{path} is {value}: it must be a finite '
                                 'number')
        cls = _declared_class(cfg.get('type'))
        for key, spec in getattr(cls, 'HYPER_PARAMS', {}).items():
            if key not in cfg:
                continue
            value = cfg[key]
            why = spec.problem(value)
            if why is not None:
                meaning = f' (a {spec.meaning})' if spec.meaning else ''
                # A string, None or a bool where a number belongs is a
                # type error; a number out of range a value error.
                error = ValueError if _is_number(value) else TypeError
                raise error(
                    f'{prefix}.{name}.{key} is {value!r}: '
                    f'{cls.__name__}.{key}{meaning} {why}')
