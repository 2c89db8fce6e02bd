"""The declarative distiller: taps, connectors and losses from a config."""
import inspect
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS
from ...utils import build_entry
from .base_distiller import BaseDistiller
from .hyperparam_check import check_hyperparams


@MODELS.register_module()
class SingleTeacherDistiller(BaseDistiller):
    """Distil a student from one frozen teacher through declared wiring.

    The student and the teacher are any mmengine ``BaseModel`` configs
    (usually mmpretrain ``ImageClassifier``); building, teacher loading and
    freezing, taps and modes are :class:`BaseDistiller`'s. In ``loss`` mode
    the teacher runs in ``tensor`` mode under ``no_grad``, the student
    computes its own loss, and every distillation loss is fed as
    ``loss_inputs`` says: from taps (optionally through a connector) and
    data fields, checked against each loss's signature at build time.

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
        teacher_ckpt (str, optional): Teacher weights; see
            :class:`BaseDistiller`.
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
        data_preprocessor (dict | nn.Module, optional): See
            :class:`BaseDistiller`.
        init_cfg (dict | list[dict], optional): Initialization config.
        allow_random_teacher (bool): See :class:`BaseDistiller`.
        channels_last (bool): See :class:`BaseDistiller`.
    """

    def __init__(self,
                 student: Union[dict, nn.Module],
                 teacher: Union[dict, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 student_taps: Optional[dict] = None,
                 teacher_taps: Optional[dict] = None,
                 connectors: Optional[dict] = None,
                 distill_losses: Optional[dict] = None,
                 loss_inputs: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 allow_random_teacher: bool = False,
                 channels_last: bool = False) -> None:
        check_hyperparams(distill_losses, 'model.distill_losses')
        check_hyperparams(connectors, 'model.connectors')
        super().__init__(
            student=student,
            teacher=teacher,
            teacher_ckpt=teacher_ckpt,
            student_taps=student_taps,
            teacher_taps=teacher_taps,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            allow_random_teacher=allow_random_teacher,
            channels_last=channels_last)
        self.connectors = nn.ModuleDict({
            name: cfg if isinstance(cfg, nn.Module) else build_entry(
                cfg, f'model.connectors.{name}')
            for name, cfg in (connectors or {}).items()
        })
        self.distill_losses = nn.ModuleDict({
            name: cfg if isinstance(cfg, nn.Module) else build_entry(
                cfg, f'model.distill_losses.{name}')
            for name, cfg in (distill_losses or {}).items()
        })
        self.loss_inputs = self._check_loss_inputs(loss_inputs or {})
        self.apply_memory_format()  # the connectors too
        # Where each argument comes from, for error messages: formatted
        # once here rather than at every step.
        self._input_texts = {
            name: {arg: self._describe(src)
                   for arg, src in sources.items()}
            for name, sources in self.loss_inputs.items()
        }

    # ------------------------------------------------------------------ build
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

    def set_epoch(self, epoch: int, max_epochs: Optional[int] = None) -> None:
        """Hand the training epoch (1-based) to every loss that follows
        it (``set_epoch``); called by ``DistillEpochHook``."""
        for loss in self.distill_losses.values():
            if callable(getattr(loss, 'set_epoch', None)):
                loss.set_epoch(epoch, max_epochs)

    # ---------------------------------------------------------------- forward
    def loss(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """Student losses as ``student.<key>`` plus ``distill.loss_<name>``."""
        self.run_teacher(inputs, data_samples)
        student_losses = self.run_student(inputs, data_samples)
        losses = {f'student.{k}': v for k, v in student_losses.items()}
        losses.update(self.compute_distill_losses(data_samples))
        return losses

    def compute_distill_losses(self, data_samples):
        """Feed every distillation loss from the recorded taps.

        Args:
            data_samples (list): The batch's data samples (for ``data.``
                sources).

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
            losses[f'distill.loss_{name}'] = self.call_term(
                f"distill loss '{name}'", loss, kwargs,
                self._input_texts[name])
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
                value = self.call_term(
                    f"connector '{src['connector']}'",
                    self.connectors[src['connector']],
                    {f"tap '{src['role']}.{src['tap']}'": value},
                    positional=True)
        cache[key] = value
        return value
