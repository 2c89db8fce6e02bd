"""Taps: named captures of module outputs or parameters of a network."""
import difflib
from contextlib import contextmanager

import torch.nn as nn


def _closest(path, candidates, n=5):
    close = difflib.get_close_matches(path, candidates, n=n, cutoff=0.4)
    if not close:
        # Fall back to paths sharing the longest existing prefix.
        prefix = path
        while prefix and not any(c.startswith(prefix) for c in candidates):
            prefix = prefix.rpartition('.')[0]
        close = [c for c in candidates if c.startswith(prefix)][:n]
    return close


class TapRecorder:
    """Capture named module outputs or parameters of one network.

    Each tap is ``name: path`` or ``name: dict(path=..., index=...)``.
    A path naming a module records that module's output at every forward
    (a one-element tuple or list is unwrapped; ``index`` picks an element
    of a longer one). A path naming a parameter (``head.fc.weight``) records
    the live parameter, so gradients flow as usual.

    Args:
        model (nn.Module): The network to tap.
        taps (dict): Tap name to path (or dict with ``path``, ``index``).
        role (str): ``'student'`` or ``'teacher'``, used in error messages.

    Raises:
        ValueError: A path names neither a module nor a parameter; the
            message lists the closest existing paths.
    """

    def __init__(self, model, taps, role):
        self.model = model
        self.role = role
        self.specs = {}
        self.outputs = {}
        self._handles = []
        modules = dict(model.named_modules())
        params = dict(model.named_parameters())
        params.update(model.named_buffers())
        for name, spec in (taps or {}).items():
            if isinstance(spec, str):
                spec = dict(path=spec)
            if not isinstance(spec, dict) or 'path' not in spec:
                raise TypeError(
                    f'{role}_taps.{name} must be a module path string or a '
                    f"dict with a 'path' key, got {spec!r}")
            path = spec['path']
            if path in modules and path != '':
                kind = 'module'
            elif path in params:
                kind = 'param'
            else:
                candidates = [p for p in modules if p] + list(params)
                raise ValueError(
                    f"{role}_taps.{name}: '{path}' is neither a module nor a "
                    f'parameter of the {role} '
                    f'({type(model).__name__}). Closest existing paths: '
                    f'{_closest(path, candidates)}')
            self.specs[name] = dict(
                path=path, kind=kind, index=spec.get('index'))
        for name, spec in self.specs.items():
            if spec['kind'] == 'module':
                module = modules[spec['path']]
                self._handles.append(
                    module.register_forward_hook(self._make_hook(name)))

    def _make_hook(self, name):

        def hook(module, inputs, output):
            self.outputs[name] = output

        return hook

    def reset(self):
        """Forget the outputs of the previous forward."""
        self.outputs = {}

    @contextmanager
    def recording(self):
        """Clear the previous outputs, then run the body."""
        self.reset()
        yield self

    def get(self, name):
        """Return the value of tap ``name`` from the last forward.

        Raises:
            RuntimeError: The tapped module did not run in the last forward.
        """
        spec = self.specs[name]
        if spec['kind'] == 'param':
            params = dict(self.model.named_parameters())
            params.update(self.model.named_buffers())
            return params[spec['path']]
        if name not in self.outputs:
            raise RuntimeError(
                f"{self.role} tap '{name}' ({spec['path']}) recorded nothing: "
                f'the module did not run in the {self.role} forward.')
        out = self.outputs[name]
        if isinstance(out, (tuple, list)):
            if spec['index'] is not None:
                out = out[spec['index']]
            elif len(out) == 1:
                out = out[0]
        return out

    def remove(self):
        """Remove every forward hook."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __contains__(self, name):
        return name in self.specs


def freeze(module: nn.Module):
    """Stop gradients to every parameter of ``module`` and put it in eval."""
    for param in module.parameters():
        param.requires_grad_(False)
    module.eval()
    return module
