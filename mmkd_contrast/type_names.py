"""Registered type names: scoping the plugin's own, suggesting close ones.

* :func:`scope_plugin_types` writes ``mmkd_contrast.X`` for every ``type``
  of a config that only this plugin registers, so the config builds under
  any ``default_scope`` (``'mmpretrain'`` in a user's own config, the
  exported student config).
* :func:`explain_unknown_type` turns mmengine's bare "X is not in the
  scope::name registry" ``KeyError`` into :class:`UnknownTypeError` listing
  the closest names registered in this plugin's, mmpretrain's and
  mmengine's registry of that kind.
"""
import contextlib
import difflib
import re
from typing import Dict, Iterator, List, Optional, Set

from mmengine.registry import Registry

__all__ = [
    'UnknownTypeError', 'plugin_only_types', 'scope_plugin_types',
    'close_type_names', 'explain_unknown_type', 'suggest_type_names'
]

SCOPE = 'mmkd_contrast'
# mmengine's message for a name no registry of the lookup holds.
_UNKNOWN = re.compile(r"([\w.]+) is not in the ([\w]+)::([\w ]+) registry")


class UnknownTypeError(KeyError):
    """A config ``type`` that no registry holds; names the closest ones."""

    def __str__(self):
        # KeyError quotes its argument; this message is meant to be read.
        return str(self.args[0]) if self.args else ''


def _plugin_registries() -> Dict[str, Registry]:
    from mmkd_contrast import registry
    return {getattr(registry, n).name: getattr(registry, n)
            for n in registry.__all__}


def _names(registry: Registry) -> Set[str]:
    """The names ``registry`` holds, after its lazy imports where they
    work: a sibling package whose modules cannot import here (mmdet or mmseg
    without mmcv's compiled ops) offers the names it has registered."""
    try:
        registry.import_from_location()
    except (ImportError, AssertionError):
        pass
    return set(registry.module_dict)


def plugin_only_types() -> Set[str]:
    """Names the plugin registers that no mmpretrain or mmengine registry
    of any kind holds (so that scoping them cannot pick another class)."""
    ours, theirs = set(), set()
    for registry in _plugin_registries().values():
        ours |= _names(registry)
        parent = registry.parent
        while parent is not None:
            theirs |= _names(parent)
            parent = parent.parent
    return ours - theirs


def scope_plugin_types(cfg, names: Optional[Set[str]] = None) -> int:
    """Prefix every unscoped plugin-only ``type`` in ``cfg`` with
    ``mmkd_contrast.``, in place.

    Args:
        cfg (dict | list): A config or part of one.
        names (set[str], optional): The names to scope; defaults to
            :func:`plugin_only_types`.

    Returns:
        int: How many types were scoped.
    """
    names = plugin_only_types() if names is None else names
    count = 0
    if isinstance(cfg, dict):
        kind = cfg.get('type')
        if isinstance(kind, str) and kind in names:
            cfg['type'] = f'{SCOPE}.{kind}'
            count += 1
        for value in cfg.values():
            count += scope_plugin_types(value, names)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            count += scope_plugin_types(value, names)
    return count


def _registries_of_kind(kind: str) -> Iterator[Registry]:
    """The plugin's registry of ``kind`` (e.g. ``'model'``), its parents,
    and the root's other children of that kind (mmseg, mmdet, ...)."""
    ours = _plugin_registries().get(kind)
    if ours is None:
        return
    seen = []
    registry = ours
    while registry is not None:
        seen.append(registry)
        yield registry
        registry = registry.parent
    for child in seen[-1].children.values():
        if all(child is not r for r in seen):
            yield child


def _unscoped_scopes(scope: str) -> Set[str]:
    """Scopes whose names resolve unscoped in a lookup in ``scope``."""
    if scope == SCOPE:
        return {SCOPE, 'mmpretrain', 'mmengine'}
    return {scope, 'mmengine'}


def close_type_names(name: str,
                     kind: str,
                     scope: str = SCOPE,
                     n: int = 5) -> List[str]:
    """The registered names of ``kind`` closest to ``name``, each written
    ``scope.Name`` where an unscoped name would not resolve in ``scope``."""
    short = name.split('.')[-1]
    plain = _unscoped_scopes(scope)
    candidates = {}
    for registry in _registries_of_kind(kind):
        for registered in _names(registry):
            label = registered if registry.scope in plain else \
                f'{registry.scope}.{registered}'
            candidates.setdefault(registered.lower(), label)
    found = difflib.get_close_matches(short.lower(), list(candidates), n=n,
                                      cutoff=0.6)
    return [candidates[f] for f in found]


def explain_unknown_type(err: BaseException) -> Optional[UnknownTypeError]:
    """An :class:`UnknownTypeError` for mmengine's unknown-type ``KeyError``
    (also when wrapped by the builders of the classes around it), or None
    if ``err`` is another error."""
    if not isinstance(err, KeyError) or isinstance(err, UnknownTypeError):
        return None
    text = err.args[0] if err.args else ''
    match = _UNKNOWN.search(str(text))
    if match is None:
        return None
    name, scope, kind = match.groups()
    close = close_type_names(name, kind, scope)
    hint = (f'closest registered names: {", ".join(close)}'
            if close else 'no registered name is close')
    return UnknownTypeError(
        f"type='{name}' is not a registered {kind} (looked up in the "
        f"{scope} scope); {hint}. This project's own types resolve under "
        f"any default_scope written '{SCOPE}.<Name>'.\n(from: {text})")


@contextlib.contextmanager
def suggest_type_names():
    """Re-raise mmengine's unknown-type ``KeyError`` raised inside as an
    :class:`UnknownTypeError` with the closest registered names."""
    try:
        yield
    except KeyError as err:
        better = explain_unknown_type(err)
        if better is None:
            raise
        raise better from err
