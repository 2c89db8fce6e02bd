"""Taps: named captures of module outputs or parameters of a network."""
import difflib
from contextlib import contextmanager

import torch._dynamo
import torch.nn as nn


def guard_module_hooks():
    """Make ``torch.compile`` guard on module hooks (a process-wide dynamo
    setting, off by default).

    Without it dynamo reuses a graph traced for one module on another of
    the same structure whatever their hooks: a tap's forward hook is then
    silently skipped (or another module's runs) when two networks of one
    architecture share compiled code, e.g. two distillers in one process
    or a teacher and a student of the same class split by a graph break.
    Set whenever a recorder hooks a module; the cost is one more guard per
    compiled frame.
    """
    torch._dynamo.config.skip_nnmodule_hook_guards = False


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
    run inside :meth:`recording` (a one-element tuple or list is unwrapped;
    ``index`` picks an element of a longer one); a forward outside it
    records nothing, so no activation is kept alive. A path naming a
    parameter or buffer (``head.fc.weight``) gives the live tensor, so
    gradients flow as usual.

    Args:
        model (nn.Module): The network to tap.
        taps (dict): Tap name to path (or dict with ``path``, ``index``).
        role (str): ``'student'`` or ``'teacher'``, used in error messages.
        hints (dict, optional): Tap name to a sentence appended to the error
            when that tap's path does not exist (what the tap should point
            at).

    Raises:
        TypeError: A tap is neither a path string nor a dict with one.
        ValueError: A path names neither a module nor a parameter; the
            message lists the closest existing paths.
    """

    def __init__(self, model, taps, role, hints=None):
        self.model = model
        self.role = role
        self.specs = {}
        self.outputs = {}
        self._recording = False
        self._handles = []
        self._params = {}
        modules = dict(model.named_modules())
        params = [name for name, _ in model.named_parameters()]
        params += [name for name, _ in model.named_buffers()]
        for name, spec in (taps or {}).items():
            if isinstance(spec, str):
                spec = dict(path=spec)
            if not isinstance(spec, dict) or 'path' not in spec:
                raise TypeError(
                    f'{role}_taps.{name} must be a module path string or a '
                    f"dict with a 'path' key, got {spec!r}")
            path = spec['path']
            if not isinstance(path, str):
                raise TypeError(
                    f'{role}_taps.{name}: the path must be a string, got '
                    f'{path!r} ({type(path).__name__})')
            if path in modules and path != '':
                kind = 'module'
            elif path in params:
                kind = 'param'
                owner, _, attr = path.rpartition('.')
                self._params[name] = (modules[owner], attr)
            else:
                hint = (hints or {}).get(name)
                candidates = [p for p in modules if p] + params
                raise ValueError(
                    f"{role}_taps.{name}: '{path}' is neither a module nor a "
                    f'parameter of the {role} '
                    f'({type(model).__name__}). Closest existing paths: '
                    f'{_closest(path, candidates)}' +
                    (f'. {hint}' if hint else ''))
            self.specs[name] = dict(
                path=path, kind=kind, index=spec.get('index'))
            if kind == 'module':
                guard_module_hooks()
                self._handles.append(modules[path].register_forward_hook(
                    self._make_hook(name)))

    def _make_hook(self, name):

        def hook(module, inputs, output):
            if self._recording:
                self.outputs[name] = output

        return hook

    def clear(self):
        """Drop the recorded outputs (and the activations they hold)."""
        self.outputs = {}

    @contextmanager
    def recording(self):
        """Clear the previous outputs, then record during the body.

        The outputs stay available after the body, until :meth:`clear`.
        """
        self.clear()
        self._recording = True
        try:
            yield self
        finally:
            self._recording = False

    def get(self, name):
        """Return the value of tap ``name``.

        A parameter tap gives the live parameter; a module tap its output
        recorded by the last :meth:`recording`.

        Raises:
            RuntimeError: The tapped module did not run in the last recorded
                forward.
        """
        spec = self.specs[name]
        if spec['kind'] == 'param':
            module, attr = self._params[name]
            return getattr(module, attr)
        if name not in self.outputs:
            raise RuntimeError(
                f"{self.role} tap '{name}' ({spec['path']}) recorded nothing: "
                f'the module did not run in the recorded {self.role} '
                'forward.')
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
