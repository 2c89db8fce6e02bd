"""Generated bad configs: every shipped distillation method's config
(see ``mutant_bases``), mutated one model field at a time.

A mutant is a base config with exactly one change: a number made NaN,
infinite, negative, zero, a string or None; a string misspelled, emptied
or made a number; a flag made ``'no'``; a tap path emptied, misspelled or
made a number; a loss argument wired to another tap (often of another
shape), to a tap, side or data field that does not exist, through a
connector that does not exist, or unwired; the teacher checkpoint missing,
empty, another network's, a number or None; the student's classes fewer
than the data's labels; ``sample_idx`` dropped by the packer; a batch or a
training set smaller than a loss needs. ``mutant_runs`` runs them and
judges the outcome.

Mutants are generated in a fixed order and sampled with a fixed seed, so a
failure is reproduced by its id alone.
"""
import math
import os.path as osp
import random
from dataclasses import dataclass
from typing import Any, Tuple

from mutant_bases import BASES, base_config, scratch_dir

#: The sections of ``model`` whose every field is mutated.
SECTIONS = ('distill_losses', 'connectors', 'preview')
#: Marks a key to delete rather than set.
DELETE = object()


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
