import inspect
import logging
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint

from mmkd_contrast.engine.checkpoint_loading import (CheckpointError,
                                                     load_checkpoint_file,
                                                     state_dict_of)
from mmkd_contrast.registry import MODELS
from ..recorders import TapRecorder, freeze
from ..utils import build_in_scope, package_scope, shape_of
from .data_fields import read_data_field
from .hyperparam_check import check_hyperparams


@MODELS.register_module()
class SingleTeacherDistiller(BaseModel):
    """Distil a student from one frozen teacher through named taps.

    The student and the teacher are any mmengine ``BaseModel`` configs
    (usually mmpretrain ``ImageClassifier``). In ``loss`` mode the teacher
    runs in ``tensor`` mode under ``no_grad``, the student computes its own
    loss, and every distillation loss is fed from taps, optionally through a
    connector. ``predict`` and ``tensor`` modes run the student alone.

    Example:
        >>> model = dict(
        ...     type='SingleTeacherDistiller',
        ...     student=dict(type='ImageClassifier', ...),
        ...     teacher=dict(type='ImageClassifier', ...),
        ...     teacher_ckpt='work_dirs/teacher/epoch_240.pth',
        ...     student_taps=dict(logits='head.fc'),
        ...     teacher_taps=dict(logits='head.fc'),
        ...     distill_losses=dict(kd=dict(type='KDLoss', tau=4)),
        ...     loss_inputs=dict(kd=dict(s_logits='student.logits',
        ...                              t_logits='teacher.logits')))

    Args:
        student (dict | nn.Module): The student model.
        teacher (dict | nn.Module): The teacher model.
        teacher_ckpt (str, optional): Teacher weights, loaded strictly on
            the CPU with weights-only loading. An mmengine checkpoint (with a
            ``state_dict`` key) or a bare state dict. If None the teacher
            keeps its initial weights (only sensible in tests).
        student_taps (dict): Tap name to module or parameter path in the
            student, e.g. ``dict(feat='neck', centres='head.fc.weight')``;
            ``dict(path=..., index=i)`` picks element ``i`` of a tuple
            output.
        teacher_taps (dict): The same for the teacher.
        connectors (dict): Name to connector config; connectors are trained
            with the student and are not part of the exported student.
        distill_losses (dict): Name to loss config. Each loss's value is
            logged as ``distill.loss_<name>``.
        loss_inputs (dict): For each loss, argument name to a source: a
            string ``'student.<tap>'``, ``'teacher.<tap>'`` or
            ``'data.<field>'`` (any data field or metainfo key of the data
            samples: ``gt_label``, ``sample_idx``, ``gt_sem_seg``; see
            :func:`read_data_field`), or
            ``dict(tap='student.<tap>', connector='<name>')`` to pass the tap
            through a connector first.
        data_preprocessor (dict | nn.Module, optional): If None, the
            student's data preprocessor is used. A dict (without ``type``
            it builds an mmpretrain ``ClsDataPreprocessor``) becomes the
            student's own preprocessor when the student config has none,
            so that the exported student normalises inputs the same way.
            Otherwise it builds in the student's scope (an unscoped
            ``SegDataPreProcessor`` next to an ``mmseg.`` student).
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 student_taps: Optional[dict] = None,
                 teacher_taps: Optional[dict] = None,
                 connectors: Optional[dict] = None,
                 distill_losses: Optional[dict] = None,
                 loss_inputs: Optional[dict] = None,
                 data_preprocessor=None,
                 init_cfg=None):
        check_hyperparams(distill_losses, 'model.distill_losses')
        check_hyperparams(connectors, 'model.connectors')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = dict(data_preprocessor)
            data_preprocessor.setdefault('type',
                                         'mmpretrain.ClsDataPreprocessor')
            # Give it to the student too, so the exported student
            # normalises its inputs exactly as during distillation.
            if isinstance(student, dict) and not student.get(
                    'data_preprocessor'):
                student = dict(student, data_preprocessor=data_preprocessor)
                data_preprocessor = None
        student_scope = package_scope(student) \
            if isinstance(student, dict) else 'mmkd_contrast'
        student = self._build_model(student, 'student')
        teacher = self._build_model(teacher, 'teacher')
        if data_preprocessor is None:
            data_preprocessor = student.data_preprocessor
        elif isinstance(data_preprocessor, dict):
            data_preprocessor = build_in_scope(data_preprocessor,
                                               student_scope)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = student
        self.teacher = teacher
        self.teacher_ckpt = teacher_ckpt
        if teacher_ckpt is not None:
            self.load_teacher(teacher_ckpt)
        else:
            print_log(
                'SingleTeacherDistiller: no teacher_ckpt given, the teacher '
                'keeps its initial (random) weights.',
                logger='current',
                level=logging.WARNING)
        # The loaded teacher must survive the Runner's init_weights().
        self.teacher._is_init = True
        freeze(self.teacher)

        self.student_taps = TapRecorder(self.student, student_taps,
                                        'student')
        self.teacher_taps = TapRecorder(self.teacher, teacher_taps,
                                        'teacher')
        self.connectors = nn.ModuleDict({
            name: cfg if isinstance(cfg, nn.Module) else build_in_scope(cfg)
            for name, cfg in (connectors or {}).items()
        })
        self.distill_losses = nn.ModuleDict({
            name: cfg if isinstance(cfg, nn.Module) else build_in_scope(cfg)
            for name, cfg in (distill_losses or {}).items()
        })
        self.loss_inputs = self._check_loss_inputs(loss_inputs or {})

    # ------------------------------------------------------------------ build
    @staticmethod
    def _build_model(cfg, role):
        if isinstance(cfg, nn.Module):
            model = cfg
        elif isinstance(cfg, dict):
            model = build_in_scope(cfg)
        else:
            raise TypeError(f'{role} must be a config dict or an nn.Module, '
                            f'got {type(cfg).__name__}')
        if not isinstance(model, BaseModel):
            raise TypeError(
                f'{role} must be an mmengine BaseModel (with a forward '
                f"taking mode='loss'/'tensor'/'predict'), got "
                f'{type(model).__name__}')
        return model

    def load_teacher(self, filename):
        """Load the teacher weights strictly from ``filename``.

        Raises:
            FileNotFoundError: The file does not exist.
            CheckpointError: The file is not a checkpoint, or is refused by
                weights-only loading.
            KeyError: The keys do not match the teacher; lists the missing
                and unexpected keys.
        """
        if '://' not in filename and not osp.isfile(filename):
            raise FileNotFoundError(
                f'teacher_ckpt: checkpoint file not found: {filename}')
        try:
            if '://' in filename:
                # Remote schemes load weights-only too
                # (register_weights_only_loaders).
                ckpt = _load_checkpoint(filename, map_location='cpu')
            else:
                ckpt = load_checkpoint_file(filename, map_location='cpu')
            state_dict = state_dict_of(ckpt, filename)
        except CheckpointError as err:
            raise CheckpointError(f'teacher_ckpt: {err}') from err
        state_dict = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items()
        }
        own = self.teacher.state_dict()
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        if missing or unexpected:
            raise KeyError(
                f'teacher_ckpt {filename} does not match the teacher '
                f'({type(self.teacher).__name__}): '
                f'missing keys ({len(missing)}): {missing[:10]}; '
                f'unexpected keys ({len(unexpected)}): {unexpected[:10]}')
        mismatched = [
            f'{k}: checkpoint {tuple(v.shape)} vs teacher '
            f'{tuple(own[k].shape)}' for k, v in state_dict.items()
            if hasattr(v, 'shape') and v.shape != own[k].shape
        ]
        if mismatched:
            raise ValueError(f'teacher_ckpt {filename}: shapes do not match '
                             f'the teacher: {mismatched[:10]}')
        self.teacher.load_state_dict(state_dict, strict=True)
        print_log(f'Loaded teacher weights from {filename}', logger='current')

    def _check_loss_inputs(self, loss_inputs):
        """Resolve and validate every loss argument's source at build time."""
        unknown = sorted(set(loss_inputs) - set(self.distill_losses))
        if unknown:
            raise KeyError(f'loss_inputs names losses that are not in '
                           f'distill_losses: {unknown}; distill_losses has '
                           f'{sorted(self.distill_losses)}')
        resolved = {}
        for loss_name, loss in self.distill_losses.items():
            mapping = loss_inputs.get(loss_name, {})
            params = inspect.signature(loss.forward).parameters
            accepts_kwargs = any(p.kind == p.VAR_KEYWORD
                                 for p in params.values())
            required = [
                n for n, p in params.items()
                if p.default is p.empty and p.kind in (
                    p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
            for arg in required:
                if arg not in mapping:
                    raise KeyError(
                        f"distill loss '{loss_name}' "
                        f'({type(loss).__name__}): argument {arg!r} has no '
                        f'tap mapped to it in loss_inputs.{loss_name}')
            # Optional arguments that the loss's own settings make required
            # (e.g. CRDLoss's labels for class-aware negatives).
            needs = getattr(loss, 'required_inputs', None)
            for arg, why in (needs() if callable(needs) else {}).items():
                if arg not in mapping:
                    hint = (f"{arg}='data.gt_label'"
                            if arg == 'labels' else f'{arg}=<source>')
                    raise KeyError(
                        f"distill loss '{loss_name}' "
                        f'({type(loss).__name__}): {why}, so it needs '
                        f'argument {arg!r}; add {hint} to '
                        f'loss_inputs.{loss_name}')
            resolved[loss_name] = {}
            for arg, source in mapping.items():
                if arg not in params and not accepts_kwargs:
                    raise KeyError(
                        f"distill loss '{loss_name}' "
                        f'({type(loss).__name__}) has no argument {arg!r}; '
                        f'its arguments are {list(params)}')
                resolved[loss_name][arg] = self._resolve_source(
                    loss_name, arg, source)
        return resolved

    def _resolve_source(self, loss_name, arg, source):
        where = f"distill loss '{loss_name}', argument {arg!r}"
        if isinstance(source, str):
            source = dict(tap=source)
        if not isinstance(source, dict) or 'tap' not in source:
            raise TypeError(f"{where}: a source is 'student.<tap>', "
                            "'teacher.<tap>', 'data.<field>' or "
                            "dict(tap=..., connector=...), got "
                            f'{source!r}')
        role, _, tap = source['tap'].partition('.')
        if role == 'data':
            if not tap.isidentifier():
                raise KeyError(f"{where}: 'data.{tap}' must name one field "
                               "of the data samples, e.g. 'data.gt_label', "
                               "'data.sample_idx', 'data.gt_sem_seg'")
        elif role in ('student', 'teacher'):
            recorder = getattr(self, f'{role}_taps')
            if tap not in recorder:
                raise KeyError(
                    f"{where}: tap '{source['tap']}' does not exist; "
                    f'{role}_taps defines {sorted(recorder.specs)}')
        else:
            raise KeyError(f"{where}: tap '{source['tap']}' must start with "
                           "'student.', 'teacher.' or 'data.'")
        connector = source.get('connector')
        if connector is not None and connector not in self.connectors:
            raise KeyError(f'{where}: connector {connector!r} does not '
                           f'exist; connectors are {sorted(self.connectors)}')
        return dict(role=role, tap=tap, connector=connector)

    # ---------------------------------------------------------------- forward
    def train(self, mode=True):
        """Set the train mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode in ('predict', 'tensor'):
            return self.student(inputs, data_samples, mode=mode)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def run_teacher(self, inputs, data_samples):
        """Run the frozen teacher in tensor mode, recording its taps."""
        with self.teacher_taps.recording(), torch.no_grad():
            return self.teacher(inputs, data_samples, mode='tensor')

    def run_student(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """Run the student in loss mode, recording its taps."""
        with self.student_taps.recording():
            return self.student(inputs, data_samples, mode='loss')

    def loss(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """Student losses as ``student.<key>`` plus ``distill.loss_<name>``."""
        self.run_teacher(inputs, data_samples)
        student_losses = self.run_student(inputs, data_samples)
        losses = {f'student.{k}': v for k, v in student_losses.items()}
        losses.update(self.compute_distill_losses(data_samples))
        return losses

    def compute_distill_losses(self, data_samples, extra_kwargs=None):
        """Feed every distillation loss from the recorded taps.

        Args:
            data_samples (list): The batch's data samples (for ``data.``
                sources).
            extra_kwargs (dict, optional): Loss name to extra keyword
                arguments computed by a subclass (e.g. per-sample weights).

        Returns:
            dict: ``distill.loss_<name>`` to scalar.
        """
        cache = {}
        losses = {}
        for name, loss in self.distill_losses.items():
            kwargs = {
                arg: self._fetch(src, data_samples, cache)
                for arg, src in self.loss_inputs[name].items()
            }
            if extra_kwargs and name in extra_kwargs:
                kwargs.update(extra_kwargs[name])
            try:
                value = loss(**kwargs)
            except (ValueError, RuntimeError, IndexError) as err:
                described = '; '.join(
                    f'{arg} <- {self._describe(self.loss_inputs[name][arg])}'
                    f' {shape_of(kwargs[arg])}'
                    if arg in self.loss_inputs[name] else
                    f'{arg} {shape_of(kwargs[arg])}' for arg in kwargs)
                raise type(err)(
                    f"distill loss '{name}' ({type(loss).__name__}) failed "
                    f'on inputs [{described}]: {err}') from err
            losses[f'distill.loss_{name}'] = value
        return losses

    @staticmethod
    def _describe(src):
        text = f"tap '{src['role']}.{src['tap']}'"
        if src['connector'] is not None:
            text += f" via connector '{src['connector']}'"
        return text

    def _fetch(self, src, data_samples, cache):
        key = (src['role'], src['tap'], src['connector'])
        if key in cache:
            return cache[key]
        if src['role'] == 'data':
            value = self.data_field(data_samples, src['tap'])
        else:
            value = getattr(self, f"{src['role']}_taps").get(src['tap'])
            if src['role'] == 'teacher' and isinstance(value, torch.Tensor):
                value = value.detach()
            if src['connector'] is not None:
                connector = self.connectors[src['connector']]
                try:
                    value = connector(value)
                except (ValueError, RuntimeError) as err:
                    raise type(err)(
                        f"connector '{src['connector']}' "
                        f'({type(connector).__name__}) failed on '
                        f"tap '{src['role']}.{src['tap']}' of shape "
                        f'{shape_of(value)}: {err}') from err
        cache[key] = value
        return value

    def data_field(self, data_samples, field):
        """``field`` of the batch's data samples (see
        :func:`read_data_field`)."""
        device = next(self.student.parameters()).device
        return read_data_field(data_samples, field, device)
