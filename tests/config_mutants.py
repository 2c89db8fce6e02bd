"""Generated bad configs: every shipped distillation method's config,
mutated one model field at a time, and the check each mutant must pass.

A mutant is the config of one method (as a test trains it: a saved random
teacher, batches of 4, a small training set) with exactly one change:
a number made NaN, infinite, negative, zero, a string or None; a string
misspelled, emptied or made a number; a tap path emptied or misspelled; a
loss argument wired to another tap (often of another shape), to a tap,
role or data field that does not exist, or through a connector that does
not exist; the teacher checkpoint missing, empty or another network's; the
student's classes fewer than the data's labels; ``sample_idx`` dropped by
the packer; a batch or a training set smaller than a loss needs.

:func:`run_mutant` then does what the Runner does, in its order: build the
model, run the project's ``before_train`` data check, and run one training
step. A mutant passes when either

* every stage succeeds and the step's losses are finite, or
* a stage before the optimizer's first update (the build, the data check,
  or the project's own checks in the first forward) raises an error that
  the project raised itself (the innermost frame of the raise is in the
  package), of a type the user can act on (``ValueError``, ``KeyError``,
  ``TypeError``, ``FileNotFoundError`` and the project's subclasses of
  them), whose message names the config key and the value (or, for a tap
  wired to the wrong shape, both shapes).

Mutants are generated in a fixed order and sampled with a fixed seed, so a
failure is reproduced by its id alone.
"""
import copy
import math
import os.path as osp
import random
import re
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmkd_contrast
from mmkd_contrast.engine.hooks import (TeacherWeightsHook,
                                        TrainDataCheckHook)
from mmkd_contrast.engine.hooks.checkpoint_match_hook import \
    CheckpointMismatchError
from mmkd_contrast.models.distillers.teacher_weights import \
    RandomTeacherError
from mmkd_contrast.models.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLUGIN_DIR = osp.dirname(osp.abspath(mmkd_contrast.__file__)) + osp.sep

#: Method name to (shipped config, where its batch comes from). 'mnist'
#: configs train on the embedded data; the others (whose datasets cannot
#: be downloaded here) get a synthetic batch of their input size.
BASES = {
    'kd': ('configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'mnist'),
    'crd': ('configs/benchmarks/crd_resnet18-w16_resnet18-w4_1xb64_mnist5k'
            '.py', 'mnist'),
    'crd+kd': ('configs/crd/crd+kd_wrn-40-2_wrn-16-2_1xb64_cifar100.py',
               'cls32'),
    'msdcrd': ('configs/quickstart/msdcrd_resnet18-w16_resnet18-w4_1xb64_'
               'mnist5k.py', 'mnist'),
    'pckd': ('configs/quickstart/pckd_resnet18-w16_resnet18-w4_1xb64_'
             'mnist5k.py', 'mnist'),
    'lfcc': ('configs/quickstart/lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py',
             'mnist'),
    'mmseg-msdcrd': ('configs/mmseg/msdcrd_pspnet-r101-d8_pspnet-r18-d8_'
                     '4xb2-80k_cityscapes-512x1024.py', 'seg'),
    'mmdet-lfcc': ('configs/mmdet/lfcc_retinanet-r101_retinanet-r50_fpn_'
                   '1x_coco.py', 'det'),
}

#: Samples in a small training set, and per batch.
NUM_TRAIN = 20
BATCH = 4
#: The sections of ``model`` whose every field is mutated.
SECTIONS = ('distill_losses', 'connectors', 'preview')
DELETE = object()
#: Exception types a user can act on; anything else (AttributeError,
#: IndexError, AssertionError, ...) is a crash, wherever it comes from.
ACTIONABLE = (ValueError, KeyError, TypeError, FileNotFoundError,
              RandomTeacherError, CheckpointMismatchError)


@dataclass
class Mutant:
    """One change to one base config.

    Attributes:
        base (str): Key of :data:`BASES`.
        path (tuple): Keys (and list indices) into the config dict.
        value (Any): The new value (:data:`DELETE` removes the key).
        op (str): What the change is, e.g. ``'nan'``, ``'misspell'``.
        names (tuple): Strings the error message must contain.
        shapes (bool): The message must show two tensor shapes.
    """
    base: str
    path: Tuple
    value: Any
    op: str
    names: Tuple[str, ...] = ()
    shapes: bool = False

    @property
    def key(self):
        """The config key, e.g. ``model.distill_losses.kd.tau``."""
        text = ''
        for part in self.path:
            text += f'[{part}]' if isinstance(part, int) else f'.{part}'
        return text.lstrip('.')

    @property
    def id(self):
        value = self.value if self.value is not DELETE else '<deleted>'
        if isinstance(value, str) and osp.isabs(value):
            value = osp.basename(value)
        return f'{self.base}:{self.key}={value!r}:{self.op}'


@dataclass
class Outcome:
    """What happened to a mutant: ``stage`` is where it stopped
    (``'build'``, ``'data check'``, ``'step'``) or ``'trained'``."""
    stage: str
    error: BaseException = None
    losses: dict = field(default_factory=dict)
    updated: bool = False


# ---------------------------------------------------------------- base configs
_BASE_CACHE = {}
_SAVED = set()
_SCRATCH = []


def scratch_dir():
    """The folder of the saved checkpoints (a new temporary one per
    process)."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix='mmkd_mutants_'))
    return _SCRATCH[0]


def base_config(name):
    """The base config of method ``name`` as a dict, set up as a test
    trains it (its own random teacher, a small training set)."""
    if name not in _BASE_CACHE:
        path, source = BASES[name]
        cfg = Config.fromfile(osp.join(ROOT, path)).to_dict()
        model = cfg['model']
        if cfg.get('data_preprocessor') and \
                not model.get('data_preprocessor'):
            model['data_preprocessor'] = cfg['data_preprocessor']
        if model.get('init_cfg') is None:
            model.pop('init_cfg', None)
        for role in ('student', 'teacher'):
            # No download of pretrained backbones.
            model[role].get('backbone', {}).pop('init_cfg', None)
            model[role].pop('init_cfg', None)
            model[role].pop('pretrained', None)
            if source == 'seg':  # pad to the synthetic size, not 512x1024
                model[role]['data_preprocessor']['size'] = (64, 64)
        model['teacher_ckpt'] = osp.join(scratch_dir(), f'{name}_teacher.pth')
        for loss in (model.get('distill_losses') or {}).values():
            if isinstance(loss, dict) and 'num_samples' in loss:
                loss['num_samples'] = NUM_TRAIN
                loss['num_negatives'] = 8
        loader = cfg['train_dataloader']
        loader['batch_size'] = BATCH
        if source == 'mnist':
            loader['dataset']['train_subset_per_class'] = NUM_TRAIN // 10
        cfg['_source'] = source
        cfg['_base'] = name
        _BASE_CACHE[name] = cfg
    return copy.deepcopy(_BASE_CACHE[name])


def save_checkpoints(name):
    """Save the initial weights of base ``name``'s teacher (its
    ``teacher_ckpt``) and student, and an empty file, once."""
    if name in _SAVED:
        return
    model = base_config(name)['model']
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        torch.manual_seed(0)
        teacher = build_in_scope(ConfigDict(model['teacher']))
        student = build_in_scope(ConfigDict(model['student']))
    torch.save(dict(state_dict=teacher.state_dict()), model['teacher_ckpt'])
    torch.save(dict(state_dict=student.state_dict()),
               osp.join(scratch_dir(), f'{name}_student.pth'))
    open(osp.join(scratch_dir(), 'empty.pth'), 'wb').close()
    _SAVED.add(name)


def _get(cfg, path):
    for part in path:
        cfg = cfg[part]
    return cfg


def apply(cfg, mutant):
    """Apply ``mutant`` to config dict ``cfg`` in place."""
    parent = _get(cfg, mutant.path[:-1])
    if mutant.value is DELETE:
        del parent[mutant.path[-1]]
    else:
        parent[mutant.path[-1]] = mutant.value
    return cfg


# ------------------------------------------------------------------- mutation
def _misspell(text):
    """``text`` with one letter dropped (or an ``x`` added to a short one)."""
    if len(text) < 3:
        return text + 'x'
    i = len(text) // 2
    return text[:i] + text[i + 1:]


def _leaves(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, path + (key, ))
    elif isinstance(value, (list, tuple)) and not all(
            isinstance(v, (int, float)) for v in value):
        for i, item in enumerate(value):
            yield from _leaves(item, path + (i, ))
    else:
        yield path, value


def _owner(path):
    """The name of the loss, connector or tap a path is in, for messages."""
    return next(p for p in path[2:3] if isinstance(p, str))


def _field_mutants(base, cfg):
    model = cfg['model']
    for section in SECTIONS:
        if not isinstance(model.get(section), dict):
            continue
        for path, value in _leaves(model[section], ('model', section)):
            leaf = path[-1] if isinstance(path[-1], str) else path[-2]
            names = (_owner(path), str(leaf))
            if leaf == 'type':
                yield Mutant(base, path, _misspell(value), 'misspell',
                             (_owner(path), _misspell(value)))
                continue
            if isinstance(value, bool):
                yield Mutant(base, path, 'no', 'wrong type',
                             names + ("'no'", ))
            elif isinstance(value, (int, float)):
                negative = -abs(value) if value else -1
                for op, new, shown in (
                        ('nan', math.nan, 'nan'), ('inf', math.inf, 'inf'),
                        ('negative', negative, str(negative)),
                        ('zero', 0 * value, str(0 * value)),
                        ('wrong type', str(value), repr(str(value))),
                        ('none', None, 'None')):
                    yield Mutant(base, path, new, op, names + (shown, ))
            elif isinstance(value, (list, tuple)):
                for op, new in (('empty', []), ('wrong type', 'all')):
                    yield Mutant(base, path, new, op,
                                 names + (repr(new), ))
            elif isinstance(value, str):
                for op, new in (('misspell', _misspell(value)),
                                ('empty', ''), ('wrong type', 3)):
                    yield Mutant(base, path, new, op,
                                 names + (repr(new), ))


def _tap_mutants(base, cfg):
    model = cfg['model']
    for role in ('student_taps', 'teacher_taps'):
        for tap, spec in (model.get(role) or {}).items():
            path = ('model', role, tap)
            if isinstance(spec, dict):
                path += ('path', )
                spec = spec['path']
            for op, new in (('empty', ''), ('misspell', _misspell(spec)),
                            ('wrong type', 3)):
                yield Mutant(base, path, new, op, (role, tap, repr(new)))


def _tap_names(model):
    return [f'{role}.{tap}' for role in ('student', 'teacher')
            for tap in (model.get(f'{role}_taps') or {})]


def _wiring_mutants(base, cfg):
    model = cfg['model']
    taps = _tap_names(model)
    for loss, args in (model.get('loss_inputs') or {}).items():
        for arg, source in args.items():
            path = ('model', 'loss_inputs', loss, arg)
            tap = source if isinstance(source, str) else source.get('tap')
            if tap is None or tap.startswith('data.'):
                continue
            role = tap.split('.')[0]
            for other in taps:
                if other != tap and other.startswith(role):
                    # Often another shape: then both shapes must be named.
                    yield Mutant(base, path, other, 'rewire',
                                 (loss, arg), shapes=True)
            for op, new, shown in (
                    ('unknown tap', f'{role}.{_misspell(tap[len(role)+1:])}',
                     None),
                    ('unknown role', 'pupil.' + tap.split('.', 1)[1], None),
                    ('wrong type', 7, '7')):
                yield Mutant(base, path, new, op,
                             (loss, arg) + ((shown or new), ))
            if isinstance(source, dict) and source.get('connector'):
                new = dict(source, connector=_misspell(source['connector']))
                yield Mutant(base, path, new, 'unknown connector',
                             (loss, arg, new['connector']))
        for arg, source in args.items():
            if source in ('data.gt_label', 'data.sample_idx'):
                path = ('model', 'loss_inputs', loss, arg)
                new = 'data.' + _misspell(source[5:])
                yield Mutant(base, path, new, 'unknown field',
                             (new[5:], ))
        yield Mutant(base, ('model', 'loss_inputs', loss, 'bogus_arg'),
                     'student.' + taps[0].split('.', 1)[1]
                     if taps else 'data.gt_label', 'extra argument',
                     (loss, 'bogus_arg'))
        for arg in list(args)[:1]:
            yield Mutant(base, ('model', 'loss_inputs', loss, arg), DELETE,
                         'unwired argument', (loss, arg))


def _model_mutants(base, cfg):
    model = cfg['model']
    scratch = scratch_dir()
    for op, new, names in (
            ('missing file', osp.join(scratch, 'no_such_teacher.pth'),
             ('teacher_ckpt', 'no_such_teacher.pth')),
            ('empty file', osp.join(scratch, 'empty.pth'),
             ('teacher_ckpt', 'empty.pth')),
            ("the student's weights", osp.join(scratch,
                                               f'{base}_student.pth'),
             ('teacher_ckpt', f'{base}_student.pth')),
            ('wrong type', 5, ('teacher_ckpt', '5')),
            ('none', None, ('teacher_ckpt', ))):
        yield Mutant(base, ('model', 'teacher_ckpt'), new, op, names)
    head = model['student'].get('head', {})
    if cfg['_source'] in ('mnist', 'cls32') and 'num_classes' in head:
        # Fewer classes than the labels of the data.
        yield Mutant(base, ('model', 'student', 'head', 'num_classes'), 3,
                     'labels out of range', ('3', 'classes'))


def _data_mutants(base, cfg):
    if cfg['_source'] != 'mnist':
        return
    loader = ('train_dataloader', )
    yield Mutant(base, loader + ('batch_size', ), 1, 'batch of one',
                 ('batch_size', '1'))
    yield Mutant(base, loader + ('dataset', 'train_subset_per_class'), 1,
                 'smaller dataset', ('10', ))
    pipeline = cfg['train_dataloader']['dataset']['pipeline']
    packer = len(pipeline) - 1
    yield Mutant(base, loader + ('dataset', 'pipeline', packer, 'meta_keys'),
                 ('img_shape', ), 'sample_idx not packed', ('sample_idx', ))


def generate(bases=None):
    """Every mutant of every base, in a fixed order."""
    out = []
    for base in bases or BASES:
        cfg = base_config(base)
        for gen in (_field_mutants, _tap_mutants, _wiring_mutants,
                    _model_mutants, _data_mutants):
            out.extend(gen(base, cfg))
    return out


def sample(mutants, n, seed=0):
    """``n`` of ``mutants`` drawn with ``seed``, in generation order."""
    picked = set(random.Random(seed).sample(range(len(mutants)),
                                            min(n, len(mutants))))
    return [m for i, m in enumerate(mutants) if i in picked]


# ------------------------------------------------------------------- batches
def _synthetic_batch(source, num_classes):
    """A raw batch (before the data preprocessor) of the input size the
    config trains on."""
    g = torch.Generator().manual_seed(0)
    size = dict(cls32=32, seg=64, det=128)[source]
    inputs = [torch.randint(0, 256, (3, size, size), generator=g,
                            dtype=torch.uint8) for _ in range(BATCH)]
    samples = []
    for i in range(BATCH):
        meta = dict(sample_idx=i, img_shape=(size, size),
                    ori_shape=(size, size), pad_shape=(size, size),
                    scale_factor=(1.0, 1.0))
        if source == 'cls32':
            from mmpretrain.structures import DataSample
            # Labels 3 and up: a classifier of 3 classes cannot take them.
            sample = DataSample(metainfo=meta).set_gt_label(
                int(torch.randint(3, num_classes, (1, ), generator=g)))
        elif source == 'seg':
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=torch.randint(
                0, 19, (1, size, size), generator=g))
        else:
            from mmdet.structures import DetDataSample
            from mmengine.structures import InstanceData
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[8., 8., 60., 70.], [30., 20., 120.,
                                                          100.]]),
                labels=torch.tensor([1, 5]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _loader_and_batch(cfg, model):
    source = cfg['_source']
    if source == 'mnist':
        loader_cfg = copy.deepcopy(cfg['train_dataloader'])
        loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=True,
                                     seed=0)
        with DefaultScope.overwrite_default_scope('mmkd_contrast'):
            loader = Runner.build_dataloader(loader_cfg, seed=0)
        return loader, lambda: next(iter(loader))
    num_classes = base_config(cfg['_base'])['model']['student'].get(
        'head', {}).get('num_classes', 10)
    loader = SimpleNamespace(dataset=_Sized(NUM_TRAIN, num_classes),
                             batch_size=BATCH, drop_last=False,
                             sampler=range(NUM_TRAIN))
    return loader, lambda: _synthetic_batch(source, num_classes)


class _Sized:
    """A stand-in training set of ``length`` samples and ``num_classes``
    classes, for the data check of a synthetic batch."""

    def __init__(self, length, num_classes):
        self.length = length
        self.metainfo = dict(classes=[str(i) for i in range(num_classes)])

    def __len__(self):
        return self.length


# ------------------------------------------------------------------- running
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
        loader, first_batch = _loader_and_batch(cfg, model)
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
LOSS_CONTRACT = {
    "mmseg-msdcrd:model.distill_losses.kd.ignore_index='255':wrong type",
    'mmseg-msdcrd:model.distill_losses.kd.ignore_index=None:none',
}


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
    default): ``python tests/config_mutants.py [BASE ...]``."""
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
