"""Tiny training steps of every method, and a counter of the operations
that would make the host wait for a GPU.

Each method is built from the config a user trains (the embedded MNIST
quickstart configs; CRD from its benchmark config) with a random teacher,
and fed a small batch made by the config's own training pipeline.
"""
import os.path as osp
import sys
from collections import Counter

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

import mmkd_contrast
from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Method name to the config its step is built from.
METHOD_CONFIGS = {
    'KD': 'configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'DKD':
    'configs/quickstart/dkd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'CRD':
    'configs/benchmarks/crd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'MSDCRD':
    'configs/quickstart/msdcrd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'PCKD':
    'configs/quickstart/pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
    'LFCC':
    'configs/quickstart/lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py',
}

# Operations that make the host wait for the device: reading a value
# (``.item()``, ``bool()``/``int()`` of a tensor, Python branches on one),
# and those whose output size depends on the data.
SYNC_OPS = {
    'aten._local_scalar_dense', 'aten.is_nonzero', 'aten.equal',
    'aten.nonzero', 'aten.masked_select', 'aten._unique', 'aten._unique2',
    'aten.unique_dim', 'aten.unique_consecutive',
    'aten.unique_dim_consecutive', 'aten.bincount', 'aten.histc'
}
# Creating a tensor from host data (``torch.tensor``, ``new_tensor``,
# ``as_tensor`` of a list) is, on a GPU, a blocking host-to-device copy.
HOST_DATA_OPS = {'aten.lift_fresh', 'aten.lift_fresh_copy'}
# Python-level methods that copy device data to the host; on a CPU they
# dispatch nothing, so a function mode catches them.
HOST_METHODS = {'tolist', 'cpu', 'numpy'}

PLUGIN_DIR = osp.dirname(osp.abspath(mmkd_contrast.__file__)) + osp.sep
TORCH_DIR = osp.dirname(osp.abspath(torch.__file__)) + osp.sep
#: The one sanctioned way to bring host data to the device in a step
#: (pinned memory, non-blocking copy on a GPU).
SANCTIONED = {('host_to_device', 'host_data.py')}


def _caller():
    """``(file, line, function)`` of the innermost frame that is neither
    torch nor this module."""
    frame = sys._getframe(2)
    while frame is not None:
        path = osp.abspath(frame.f_code.co_filename)
        if not path.startswith(TORCH_DIR) and path != osp.abspath(__file__):
            return path, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return '<unknown>', 0, '<unknown>'


class SyncCounter:
    """Count the synchronising operations run inside its ``with`` block,
    each attributed to the innermost calling frame outside torch.

    Attributes:
        events (list): ``(op, file, line, function)`` of every one.
    """

    def __init__(self):
        self.events = []
        counter = self

        class _Dispatch(TorchDispatchMode):

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                name = str(func.overloadpacket)
                if name in SYNC_OPS or name in HOST_DATA_OPS or (
                        name in ('aten.index', 'aten.index_put',
                                 'aten.index_put_')
                        and _has_bool_index(args)):
                    counter._record(name)
                return func(*args, **kwargs)

        class _Function(TorchFunctionMode):

            def __torch_function__(self, func, types, args=(), kwargs=None):
                if getattr(func, '__name__', None) in HOST_METHODS:
                    counter._record(f'Tensor.{func.__name__}')
                return func(*args, **(kwargs or {}))

        self._modes = (_Function(), _Dispatch())

    def _record(self, op):
        path, line, function = _caller()
        self.events.append((op, path, line, function))

    def __enter__(self):
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc):
        for mode in reversed(self._modes):
            mode.__exit__(*exc)

    def plugin_events(self):
        """The events attributed to this project's package, less the
        sanctioned host-to-device helper."""
        return [
            e for e in self.events if e[1].startswith(PLUGIN_DIR)
            and (e[3], osp.basename(e[1])) not in SANCTIONED
        ]

    def summary(self, events=None):
        """``Counter`` of ``'op at file:line (function)'``."""
        events = self.events if events is None else events
        return Counter(f'{op} at {osp.relpath(path, ROOT)}:{line} ({fn})'
                       for op, path, line, fn in events)


def _has_bool_index(args):
    indices = args[1] if len(args) > 1 else ()
    return any(
        isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8)
        for i in (indices or ()))


def load_method_cfg(method, batch_size=8):
    """The method's config, with a random teacher and a small batch."""
    cfg = Config.fromfile(osp.join(ROOT, METHOD_CONFIGS[method]))
    cfg.model.teacher_ckpt = None
    cfg.train_dataloader.batch_size = batch_size
    return cfg


def build_model(method, seed=0):
    """The method's distiller in train mode, built with ``seed``."""
    return build_method(method, seed=seed, with_data=False)


def build_method(method, batch_size=8, seed=0, with_data=True):
    """``(model, data_batch)``: the method's distiller in train mode and
    one batch of its training data (not yet preprocessed)."""
    cfg = load_method_cfg(method, batch_size)
    model_cfg = cfg.model.to_dict()
    # As the Runner does: the config's data_preprocessor goes to the model.
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor',
                             cfg.data_preprocessor.to_dict())
    torch.manual_seed(seed)
    model = build_in_scope(model_cfg).train()
    if callable(getattr(model, 'set_epoch', None)):
        # What DistillEpochHook tells PCKD in the first epoch.
        model.set_epoch(1, cfg.train_cfg.max_epochs)
    if not with_data:
        return model
    loader_cfg = cfg.train_dataloader.to_dict()
    loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=True,
                                 seed=seed)
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
        return model, next(iter(loader))


def sgd_wrapper(model, lr=0.01):
    """A plain SGD ``OptimWrapper`` over the trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return OptimWrapper(torch.optim.SGD(params, lr=lr, momentum=0.9))
