"""What ``torch.compile`` does with a training step: the graph breaks and
recompilations it logs, each attributed to a file and line.

Dynamo logs both through its ``graph_breaks`` and ``recompiles`` artifact
loggers (children of the ``torch`` logger, named ``<module>.__graph_breaks``
and ``<module>.__recompiles``); :class:`DynamoEvents` turns them on and
collects their records.
"""
import logging
import os.path as osp
import re

import torch
import torch._dynamo
import torch._logging

import mmkd_contrast

PLUGIN_DIR = osp.dirname(osp.abspath(mmkd_contrast.__file__)) + osp.sep
_BREAK = re.compile(r'Graph break.*? in user code at (\S+):(\d+)')
_RECOMPILE = re.compile(r'Recompiling function (\S+) in (\S+):(\d+)')


class DynamoEvents(logging.Handler):
    """Collect dynamo's graph breaks and recompilations inside ``with``.

    Attributes:
        events (list): ``(kind, file, line, text)`` per event, kind
            ``'break'`` or ``'recompile'``; ``text`` is the first lines of
            the record.
    """

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.events = []

    def emit(self, record):
        name = record.name
        if not name.endswith(('__graph_breaks', '__recompiles')):
            return
        text = record.getMessage()
        match = _BREAK.search(text)
        if match:
            self.events.append(('break', match.group(1),
                                int(match.group(2)), text[:1500]))
            return
        match = _RECOMPILE.search(text)
        if match:
            self.events.append(('recompile', match.group(2),
                                int(match.group(3)), text[:1500]))

    def __enter__(self):
        torch._logging.set_logs(graph_breaks=True, recompiles=True)
        logging.getLogger('torch._dynamo').addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger('torch._dynamo').removeHandler(self)
        torch._logging.set_logs()

    def mark(self):
        """The number of events so far (to select the later ones)."""
        return len(self.events)

    def plugin(self, kind, since=0):
        """The events of ``kind`` located in this project's package."""
        return [
            e for e in self.events[since:]
            if e[0] == kind and osp.abspath(e[1]).startswith(PLUGIN_DIR)
        ]

    def of_kind(self, kind, since=0):
        return [e for e in self.events[since:] if e[0] == kind]


def compiled_steps(model, data, optim_wrapper, steps, backend='eager'):
    """Run ``steps`` compiled ``train_step`` calls (as mmengine's
    ``compile`` option compiles it) and return their log variables.

    ``backend='eager'`` runs dynamo (which decides graph breaks and
    recompilations) without inductor's code generation, which is slow on a
    CPU and changes neither.
    """
    torch._dynamo.reset()
    step = torch.compile(model.train_step, backend=backend)
    return [step(data, optim_wrapper) for _ in range(steps)]
