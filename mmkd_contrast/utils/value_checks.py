"""When the checks that read tensor values run.

A check that reads a value of a tensor (a label range, the finiteness of an
input) makes the host wait for the device: on a GPU it stalls the launch
queue in the middle of the training step. Such checks run on a module's
first call only (the first training iteration), and on every call when the
debug switch is on: ``MMKD_CONTRAST_DEBUG_CHECKS=1`` in the environment,
``tools/train.py --debug-checks``, or :func:`set_debug_checks`. Checks of
shapes and types read no value and always run.

Inside a step compiled with ``torch.compile`` (mmengine's ``compile``
option, ``tools/train.py --compile``) the value checks do not run at all: a
branch on a tensor's value would split the compiled graph at every check.
Run a step without ``--compile`` to have them.

Non-finite losses are caught without a sync by
:class:`~mmkd_contrast.engine.hooks.FiniteLossHook`, which reads the values
mmengine has already brought to the host after the step.
"""
import os

import torch

#: Environment variable that turns the per-step value checks on.
DEBUG_CHECKS_ENV = 'MMKD_CONTRAST_DEBUG_CHECKS'

_FALSE = ('', '0', 'false', 'no', 'off')

# None: follow the environment variable.
_debug_checks = None


def set_debug_checks(enabled):
    """Run the value checks on every call (True), on first calls only
    (False), or as the environment says (None).

    Args:
        enabled (bool | None): The switch.
    """
    global _debug_checks
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f'set_debug_checks expects True, False or None, got '
                        f'{enabled!r}')
    _debug_checks = enabled


def debug_checks_enabled():
    """bool: Whether value checks run on every call."""
    if _debug_checks is not None:
        return _debug_checks
    return os.environ.get(DEBUG_CHECKS_ENV, '').strip().lower() not in _FALSE


def should_check_values(module, key='values'):
    """Whether ``module`` should run its value checks on this call.

    True on the first call for each ``(module, key)``, and on every call
    when the debug switch is on; False otherwise, and always False while
    ``torch.compile`` traces the call.

    Args:
        module (object): The object whose checks these are (usually the
            ``nn.Module`` itself); a flag is stored on it.
        key (str): Name of the group of checks, for a module with several.

    Returns:
        bool: Run the checks now.
    """
    if torch.compiler.is_compiling():
        # A Python branch on a value would break the compiled graph.
        return False
    if debug_checks_enabled():
        return True
    done = module.__dict__.setdefault('_value_checks_done', set())
    if key in done:
        return False
    done.add(key)
    return True
