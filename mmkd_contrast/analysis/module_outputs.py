"""Every module's output shape for one dummy batch: where a tap can go."""
import re
from collections import OrderedDict

import torch
from mmengine.config import ConfigDict

from ..models.recorders import _closest
from ..utils import build_in_scope


class TapToolError(Exception):
    """Bad input to the tap tools; the message names key, path and shapes."""


# Datasets whose images have one fixed size and no resizing transform in
# their test pipeline: (height, width).
_NATIVE_SIZES = {
    'CIFAR10': (32, 32),
    'CIFAR100': (32, 32),
    'MNIST': (28, 28),
    'FashionMNIST': (28, 28),
    'EmbeddedMNIST': (28, 28),
}


def _size_of(value):
    """``(h, w)`` of a crop size (int or ``(h, w)``)."""
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(int(v) for v in value)
    return None


def _pipeline_size(pipeline):
    """The image size a test pipeline produces, or None."""
    size = None
    for step in pipeline or []:
        kind = str(step.get('type', '')).split('.')[-1]
        if kind in ('CenterCrop', 'RandomCrop', 'RandomResizedCrop'):
            size = _size_of(step.get('crop_size') or step.get('scale'))
        elif kind == 'ResizeEdge' and isinstance(step.get('scale'), int):
            size = (step['scale'], step['scale'])
        elif kind == 'Resize' and step.get('scale') is not None:
            scale = _size_of(step['scale'])
            # mmcv's Resize (mmpretrain, mmseg, mmdet) takes (w, h).
            size = scale[::-1] if scale else None
    return size


def input_size_of(cfg):
    """The ``(h, w)`` of the config's evaluation inputs.

    Looked up in order: the config's ``crop_size`` (mmseg configs), the
    last crop or resize of the test (or val) pipeline, the native size of
    the dataset type (CIFAR: 32, MNIST: 28).

    Raises:
        TapToolError: None of these gives a size.
    """
    if _size_of(cfg.get('crop_size')):
        return _size_of(cfg.get('crop_size'))
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset = dataset['dataset']  # wrappers (PerClassSubset)
        if not isinstance(dataset, dict):
            continue
        size = _pipeline_size(dataset.get('pipeline'))
        if size is None:
            size = _NATIVE_SIZES.get(str(dataset.get('type')).split('.')[-1])
        if size is not None:
            return size
    raise TapToolError(
        'the config gives no input size (no crop_size, no crop or resize in '
        'test_dataloader.dataset.pipeline, no known dataset type); pass '
        '--input-size H W')


def in_channels_of(model_cfg):
    """Image channels the model expects: its backbone's ``in_channels``."""
    backbone = model_cfg.get('backbone') if isinstance(model_cfg,
                                                       dict) else None
    if isinstance(backbone, dict) and isinstance(
            backbone.get('in_channels'), int):
        return backbone['in_channels']
    return 3


def build_network(cfg, key):
    """Build ``cfg.<key>`` (e.g. ``model.student``) in its package's scope.

    Raises:
        TapToolError: The key is missing or the network does not build.
    """
    node = cfg
    for part in key.split('.'):
        if not hasattr(node, 'get') or node.get(part) is None:
            raise TapToolError(
                f'{key} is missing: the config is not a distiller config '
                '(it needs model.student and model.teacher)')
        node = node[part]
    if not isinstance(node, dict) or 'type' not in node:
        raise TapToolError(f'{key} must be a model config dict with a type, '
                           f'got {type(node).__name__}')
    try:
        return build_in_scope(ConfigDict(node))
    except Exception as err:  # any build failure, reported without depth
        raise TapToolError(f"{key} (type {node['type']!r}) does not build: "
                           f'{type(err).__name__}: {err}') from err


def describe(value):
    """A short text of an output's shape: ``(2, 64, 8, 8)``, tuples as
    ``tuple[(...), (...)]``, integers as their value, anything else its
    type name."""
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    if isinstance(value, (tuple, list)):
        inner = ', '.join(describe(v) for v in value)
        return f'tuple[{inner}]' if isinstance(value, tuple) \
            else f'list[{inner}]'
    if isinstance(value, dict):
        inner = ', '.join(f'{k}: {describe(v)}' for k, v in value.items())
        return f'dict{{{inner}}}'
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # e.g. the (h, w) a Swin stage returns
    return type(value).__name__


def record_outputs(model, inputs):
    """Run ``model`` in ``tensor`` mode on ``inputs``, recording every
    module's output.

    Args:
        model (nn.Module): An mmengine ``BaseModel``.
        inputs (Tensor): A batch ``(B, C, H, W)``.

    Returns:
        OrderedDict: module path to ``dict(type, output, calls)`` in the
        order modules were registered; ``output`` is the last call's,
        ``calls`` the number of calls (modules that did not run are left
        out).
    """
    records = OrderedDict()
    handles = []

    def make_hook(path):

        def hook(module, args, output):
            entry = records.setdefault(
                path, dict(type=type(module).__name__, calls=0))
            entry['output'] = output
            entry['calls'] += 1

        return hook

    order = [p for p, _ in model.named_modules() if p]
    for path, module in model.named_modules():
        if path:
            handles.append(module.register_forward_hook(make_hook(path)))
    try:
        model.eval()
        with torch.no_grad():
            model(inputs, None, mode='tensor')
    finally:
        for handle in handles:
            handle.remove()
    return OrderedDict((p, records[p]) for p in order if p in records)


def select(records, depth=None, pattern=None):
    """The records at most ``depth`` levels deep whose path matches the
    regular expression ``pattern``."""
    regex = re.compile(pattern) if pattern else None
    return OrderedDict(
        (path, rec) for path, rec in records.items()
        if (depth is None or path.count('.') < depth) and (
            regex is None or regex.search(path)))


def parse_tap(text):
    """``'backbone[3]'`` to ``('backbone', 3)``; ``'neck'`` to
    ``('neck', None)``."""
    match = re.fullmatch(r'(.+?)\[(-?\d+)\]', text)
    if match:
        return match.group(1), int(match.group(2))
    return text, None


def tap_output(records, model, role, text):
    """The tensor a tap ``text`` (``path`` or ``path[i]``) gives.

    Raises:
        TapToolError: The path is not a module of the network, the module
            did not run, or its output is not one tensor (a tuple without
            an index, an index out of range).
    """
    path, index = parse_tap(text)
    modules = [p for p, _ in model.named_modules() if p]
    if path not in records:
        if path in modules:
            raise TapToolError(f"{role} path '{path}': the module did not "
                               f'run in the {role} forward')
        raise TapToolError(
            f"{role} path '{path}' is not a module of the {role} "
            f'({type(model).__name__}); closest: '
            f'{_closest(path, modules)}')
    out = records[path]['output']
    if isinstance(out, (tuple, list)):
        if index is None and len(out) == 1:
            out = out[0]
        elif index is None:
            raise TapToolError(
                f"{role} path '{path}' gives {describe(out)}: pick one "
                f"element, e.g. '{path}[{len(out) - 1}]'")
        elif not -len(out) <= index < len(out):
            raise TapToolError(
                f"{role} path '{text}': index {index} is out of range for "
                f'{describe(out)}')
        else:
            out = out[index]
    elif index is not None:
        raise TapToolError(f"{role} path '{text}': the output "
                           f'{describe(out)} is not a tuple to index')
    if not isinstance(out, torch.Tensor):
        raise TapToolError(f"{role} path '{text}' gives {describe(out)}, "
                           'not a tensor')
    return out
