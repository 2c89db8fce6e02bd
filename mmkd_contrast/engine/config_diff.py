"""Read the config stored in an mmengine checkpoint without running it, and
list where it differs from another.

mmengine stores ``cfg.pretty_text`` under ``meta['cfg']``: Python source made
of ``name = dict(...)`` assignments. ``Config.fromstring`` would *execute*
it, which a checkpoint loaded weights-only must not be able to make us do;
:func:`literal_config` only evaluates literals and ``dict(...)`` calls.
"""
import ast

__all__ = ['literal_config', 'diff_configs']


class _NotLiteral(Exception):
    pass


def _value(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_value(n) for n in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == 'dict' and not node.args:
        return {kw.arg: _value(kw.value) for kw in node.keywords}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)
    raise _NotLiteral(ast.dump(node)[:60])


def literal_config(text):
    """The top-level ``name = <literal>`` assignments of config source.

    Args:
        text (str): Config source such as ``Config.pretty_text``.

    Returns:
        dict: Name to value; names whose value is not a literal are left
        out. Empty if the text does not parse.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], ast.Name):
            try:
                out[stmt.targets[0].id] = _value(stmt.value)
            except (_NotLiteral, TypeError, ValueError):
                continue
    return out


def _flatten(value, prefix, out):
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f'{prefix}.{key}' if prefix else str(key), out)
    elif isinstance(value, (list, tuple)) and any(
            isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f'{prefix}[{i}]', out)
    else:
        out[prefix] = list(value) if isinstance(value, tuple) else value
    return out


def diff_configs(old, new, prefix=''):
    """Dotted keys whose values differ between two config dicts.

    Args:
        old (dict): E.g. the config a checkpoint was written with.
        new (dict): E.g. the config of this run.
        prefix (str): Prepended to every key.

    Returns:
        list[str]: ``'key: old_value -> new_value'``, sorted by key; a key
        present on one side only shows ``<absent>`` on the other.
    """
    a = _flatten(old, prefix, {})
    b = _flatten(new, prefix, {})
    lines = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, '<absent>'), b.get(key, '<absent>')
        if va != vb:
            lines.append(f'{key}: {va!r} -> {vb!r}')
    return lines
