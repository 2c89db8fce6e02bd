"""Build one named entry of a distiller's config (a loss, a connector),
naming that entry when it cannot be built."""
import inspect

from mmengine.registry import DefaultScope

from mmkd_contrast.registry import MODELS
from mmkd_contrast.type_names import UnknownTypeError
from .scoped_build import build_in_scope, package_scope

__all__ = ['ConfigEntryError', 'build_entry', 'check_flags']


class ConfigEntryError(UnknownTypeError):
    """A config entry names a type that no registry holds.

    An :class:`~mmkd_contrast.type_names.UnknownTypeError` (a ``KeyError``
    printed as the message itself) with the entry's key in front.
    """


def _describe(cfg):
    items = ', '.join(f'{k}={v!r}' for k, v in cfg.items())
    return f'dict({items})'


def _class_of(cfg):
    kind = cfg.get('type')
    if not isinstance(kind, str):
        return kind if inspect.isclass(kind) else None
    with DefaultScope.overwrite_default_scope(package_scope(cfg)):
        return MODELS.get(kind)


def check_flags(cfg, key):
    """Refuse a non-bool value for an argument whose default is a bool.

    ``symmetric='no'`` would otherwise be taken as true. Nested configs
    (the ``connectors`` list of a ``ConnectorSequence``) are checked too.

    Args:
        cfg (dict): A config with a ``type``.
        key (str): Its config key, for the message.

    Raises:
        TypeError: Names the key and the value.
    """
    cls = _class_of(cfg)
    try:
        params = inspect.signature(cls).parameters if cls else {}
    except (TypeError, ValueError):
        params = {}
    for name, value in cfg.items():
        param = params.get(name)
        if param is not None and isinstance(param.default, bool) and \
                not isinstance(value, bool):
            raise TypeError(f'{key}.{name} is {value!r} '
                            f'({type(value).__name__}): it must be True or '
                            'False')
        items = value if isinstance(value, (list, tuple)) else [value]
        for i, item in enumerate(items):
            if isinstance(item, dict) and 'type' in item:
                where = f'{key}.{name}' + (
                    f'[{i}]' if isinstance(value, (list, tuple)) else '')
                check_flags(item, where)


def build_entry(cfg, key):
    """Build config ``cfg`` in its package's scope (see
    :func:`build_in_scope`); if that fails, say which entry it was.

    A bad value deep inside a module's constructor (a string where torch
    wants a size, a misspelled ``type``) otherwise surfaces as a bare error
    from torch or the registry that names neither the config key nor the
    value. The error is raised again with the key and the whole entry
    (its values included) in front of the original message: an error the
    user can act on (``ValueError``, ``TypeError``) keeps its type, a
    misspelled type raises :class:`ConfigEntryError`, and any other error
    (e.g. torch's ``RuntimeError`` for a negative size) becomes a
    ``ValueError``.

    Args:
        cfg (dict): The entry's config.
        key (str): Its config key, e.g. ``'model.connectors.s_embed'``.

    Returns:
        nn.Module: The built module.

    Raises:
        TypeError: See :func:`check_flags`.
    """
    if isinstance(cfg, dict):
        check_flags(cfg, key)
    try:
        return build_in_scope(cfg)
    except Exception as err:  # noqa: B902 - re-raised with the key
        what = f'{key} = {_describe(cfg)} could not be built: '
        if isinstance(err, KeyError):
            message = str(err.args[0]) if err.args else ''
            raise ConfigEntryError(what + message) from err
        kind = type(err) if isinstance(err, (ValueError, TypeError)) \
            else ValueError
        try:
            new = kind(f'{what}{type(err).__name__}: {err}')
        except Exception:  # noqa: B902 - a type with another signature
            new = ValueError(f'{what}{type(err).__name__}: {err}')
        raise new from err
