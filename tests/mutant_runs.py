"""Run a generated bad config (``config_mutants``) the way the Runner
runs it, and judge the outcome.

:func:`run_mutant` builds the model, runs the project's ``before_train``
checks and one training step. A mutant passes when either

* every stage succeeds and the step's losses are finite, or
* a stage before the optimizer's first update (the build, a
  ``before_train`` check, or the project's own checks in the first
  forward) raises an error that the project raised itself (the innermost
  frame of the raise is in the package), of a type the user can act on
  (``ValueError``, ``KeyError``, ``TypeError``, ``FileNotFoundError`` and
  the project's subclasses of them), whose message names the config key and
  the value (or, for a tap wired to the wrong shape, both shapes).

``python tests/mutant_runs.py [BASE ...]`` prints the tally.
"""
import math
import os.path as osp
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

import torch
from config_mutants import apply, generate
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mutant_bases import (BASES, base_config, loader_and_batch,
                          save_checkpoints)

import mmkd_contrast
from mmkd_contrast.engine.hooks import (TeacherWeightsHook,
                                        TrainDataCheckHook)
from mmkd_contrast.engine.hooks.checkpoint_match_hook import \
    CheckpointMismatchError
from mmkd_contrast.models.distillers.teacher_weights import \
    RandomTeacherError
from mmkd_contrast.utils import build_in_scope

PLUGIN_DIR = osp.dirname(osp.abspath(mmkd_contrast.__file__)) + osp.sep
#: Exception types a user can act on; anything else (AttributeError,
#: IndexError, AssertionError, ...) is a crash, wherever it comes from.
ACTIONABLE = (ValueError, KeyError, TypeError, FileNotFoundError,
              RandomTeacherError, CheckpointMismatchError)


@dataclass
class Outcome:
    """What happened to a mutant: ``stage`` is where it stopped
    (``'build'``, ``'data check'``, ``'step'``) or ``'trained'``."""
    stage: str
    error: BaseException = None
    losses: dict = field(default_factory=dict)
    updated: bool = False


def _build(model_cfg):
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        torch.manual_seed(0)
        # As the Runner builds it: a ConfigDict (mmseg sets attributes).
        return build_in_scope(ConfigDict(model_cfg)).train()


def run_mutant(mutant):
    """Build, check and train one step of ``mutant`` as the Runner would.

    Returns:
        Outcome: Where it stopped, with the error, or the step's losses.
    """
    save_checkpoints(mutant.base)
    cfg = apply(base_config(mutant.base), mutant)
    try:
        model = _build(cfg['model'])
    except Exception as err:  # noqa: B902 - judged by check_outcome
        return Outcome('build', err)
    try:
        loader, first_batch = loader_and_batch(cfg)
        runner = SimpleNamespace(model=model, train_dataloader=loader)
        TeacherWeightsHook().before_train(runner)
        TrainDataCheckHook().before_train(runner)
    except Exception as err:
        return Outcome('data check', err)
    preview = getattr(model, 'preview', None)
    if getattr(preview, 'final_threshold', None) is not None:
        preview.set_max_epochs(cfg['train_cfg']['max_epochs'])
    params = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    wrapper = OptimWrapper(torch.optim.SGD(params, lr=0.01))
    try:
        with DefaultScope.overwrite_default_scope('mmkd_contrast'):
            losses = model.train_step(first_batch(), wrapper)
    except Exception as err:
        updated = any(not torch.equal(a, b) for a, b in zip(before, params))
        return Outcome('step', err, updated=updated)
    return Outcome('trained',
                   losses={k: float(v.detach())
                           for k, v in losses.items()})


def _raised_in_plugin(err):
    tb = err.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and osp.abspath(last).startswith(PLUGIN_DIR)


SHAPE = re.compile(r'\(\d+(, \d+)*,?\)|torch\.Size\(\[')


def problems(mutant, outcome):
    """What is wrong with ``outcome`` (empty when the mutant passes)."""
    if outcome.stage == 'trained':
        bad = {k: v for k, v in outcome.losses.items()
               if not math.isfinite(v)}
        return [f'trained with non-finite losses {bad}'] if bad else []
    err = outcome.error
    text = f'{type(err).__name__}: {err}'
    found = []
    if outcome.updated:
        found.append('the weights changed before the error')
    if not isinstance(err, ACTIONABLE):
        found.append(f'not an actionable error type ({type(err).__name__})')
    if not _raised_in_plugin(err):
        where = traceback.extract_tb(err.__traceback__)[-1]
        found.append(f'raised outside the package, at '
                     f'{where.filename}:{where.lineno}')
    missing = [n for n in mutant.names if n not in str(err)]
    if missing:
        found.append(f'the message does not name {missing}')
    if mutant.shapes and len(SHAPE.findall(str(err))) < 2 and \
            'shape' not in str(err):
        found.append('the message does not show both shapes')
    return [f'{p} -- {text[:600]}' for p in found]


#: Mutants left to each loss's own check of its hyper-parameters at
#: construction: until a loss checks them, they fail the check above.
#: Empty since the losses declare and check their hyper-parameters
#: (``BaseDistillLoss``; KDLoss's ``ignore_index`` was the last one).
LOSS_CONTRACT = set()


def tally(mutants, log=print):
    """Run ``mutants``; return ``(stage counter, failures)`` where a
    failure is ``(mutant, problems)``."""
    stages, failures = Counter(), []
    for mutant in mutants:
        outcome = run_mutant(mutant)
        stages[outcome.stage] += 1
        found = problems(mutant, outcome)
        if found:
            failures.append((mutant, found))
            log(f'FAIL {mutant.id}: {found[0]}')
    return stages, failures


def main():
    """Print the tally of every mutant of the given bases (all by
    default): ``python tests/mutant_runs.py [BASE ...]``."""
    import logging
    import sys

    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    torch.set_num_threads(1)
    bases = sys.argv[1:] or list(BASES)
    total = Counter()
    for base in bases:
        mutants = generate([base])
        stages, failures = tally(mutants)
        total.update(stages)
        total['failed'] += len(failures)
        print(f'{base}: {len(mutants)} mutants, {dict(stages)}, '
              f'{len(failures)} failed')
    print(f'all: {sum(v for k, v in total.items() if k != "failed")} '
          f'mutants, {dict(total)}')


if __name__ == '__main__':
    main()
