"""The teacher-student frame every distiller of the package builds on."""
import logging
import os
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel

from ..recorders import TapRecorder, freeze
from ...utils import build_in_scope, package_scope, shape_of
from .data_fields import read_data_field
from .teacher_predictions import add_teacher_logits
from .teacher_weights import (RandomTeacherError, load_pretrained_inits,
                              load_strictly, random_teacher_message)


class BaseDistiller(BaseModel):
    """A trained student, a frozen teacher and the taps on both.

    It builds both networks, loads the teacher strictly, freezes it (it
    stays in eval mode and survives the Runner's ``init_weights()``) and
    records the taps of each network. ``forward`` in ``loss`` mode calls
    :meth:`loss`, which a subclass implements, and drops the recorded
    outputs afterwards; ``predict`` and ``tensor`` modes run the student
    alone.

    Args:
        student (dict | nn.Module): The student, an mmengine ``BaseModel``.
        teacher (dict | nn.Module): The teacher, an mmengine ``BaseModel``.
        teacher_ckpt (str, optional): Teacher weights, loaded strictly on
            the CPU with weights-only loading. An mmengine checkpoint (with a
            ``state_dict`` key) or a bare state dict. Without it the
            teacher's weights come from a ``Pretrained`` ``init_cfg`` inside
            the teacher config, or from a distillation checkpoint the
            Runner loads (``load_from``, ``--resume``); see
            :mod:`~mmkd_contrast.models.distillers.teacher_weights`.
        allow_random_teacher (bool): Let the training tools distil from a
            teacher that got no trained weights (smoke tests, speed
            measurements). Defaults to False: they refuse.
        student_taps (dict, optional): Tap name to module or parameter path
            in the student (see
            :class:`~mmkd_contrast.models.recorders.TapRecorder`).
        teacher_taps (dict, optional): The same for the teacher.
        data_preprocessor (dict | nn.Module, optional): If None, the
            student's data preprocessor is used. A dict (without ``type``
            it builds an mmpretrain ``ClsDataPreprocessor``) becomes the
            student's own preprocessor when the student config has none,
            so that the exported student normalises inputs the same way.
            Otherwise it builds in the student's scope (an unscoped
            ``SegDataPreProcessor`` next to an ``mmseg.`` student).
        init_cfg (dict, optional): Initialization config.
        channels_last (bool): Keep the student's, the teacher's and the
            connectors' 4-D weights and the 4-D inputs in the channels-last
            memory format (``tools/train.py --channels-last``). The values
            are unchanged; only the layout in memory differs. Defaults to
            False.
    """

    #: Tap name to a sentence added to the error when its path does not
    #: exist; a subclass that needs a particular tap says where it points.
    TAP_HINTS: Dict[str, str] = {}

    #: In ``predict`` mode also run the teacher and add its logits to each
    #: prediction (``teacher_logits``). Off except while an evaluator's
    #: metric needs them (set by ``TeacherLogitsHook``).
    predict_teacher_logits = False

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt: Optional[str] = None,
                 student_taps: Optional[dict] = None,
                 teacher_taps: Optional[dict] = None,
                 data_preprocessor=None,
                 init_cfg=None,
                 allow_random_teacher: bool = False,
                 channels_last: bool = False):
        if not isinstance(channels_last, bool):
            raise TypeError('model.channels_last must be True or False, got '
                            f'{channels_last!r}')
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
        self.allow_random_teacher = bool(allow_random_teacher)
        #: Where the whole teacher's trained weights came from (None: it
        #: has none yet).
        self.teacher_weights: Optional[str] = load_pretrained_inits(
            self.teacher, teacher_ckpt)
        if teacher_ckpt is not None:
            self.load_teacher(teacher_ckpt)
        elif self.teacher_weights is None:
            print_log(
                f'{type(self).__name__}: no teacher_ckpt given; the teacher '
                'keeps its initial (random) weights unless a checkpoint '
                'loaded later holds them'
                + (' (allow_random_teacher=True)'
                   if self.allow_random_teacher else ''),
                logger='current',
                level=logging.WARNING)
        self.teacher.register_load_state_dict_pre_hook(
            self._note_teacher_in_checkpoint)
        # The loaded teacher must survive the Runner's init_weights().
        self.teacher._is_init = True
        freeze(self.teacher)
        self.student_taps = TapRecorder(self.student, student_taps,
                                        'student', self.TAP_HINTS)
        self.teacher_taps = TapRecorder(self.teacher, teacher_taps,
                                        'teacher', self.TAP_HINTS)
        self.channels_last = channels_last
        self.apply_memory_format()

    def init_weights(self):
        """Initialise in NCHW, then restore channels_last: a random
        initialiser fills a tensor in memory order, so the same seed would
        give other weights in the channels-last layout."""
        if self.channels_last:
            self.to(memory_format=torch.contiguous_format)
        super().init_weights()
        self.apply_memory_format()

    def apply_memory_format(self):
        """Put every 4-D weight in the channels-last format when
        ``channels_last`` is set; a subclass calls it again once it has
        built its connectors."""
        if self.channels_last:
            self.to(memory_format=torch.channels_last)

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
            ValueError: A tensor's shape differs from the teacher's.
        """
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f'model.teacher_ckpt must be a checkpoint path, '
                            f'got {filename!r} ({type(filename).__name__})')
        filename = os.fspath(filename)
        load_strictly(self.teacher, filename, 'teacher_ckpt')
        self.teacher_weights = f'teacher_ckpt {filename}'
        print_log(f'Loaded teacher weights from {filename}', logger='current')

    def _note_teacher_in_checkpoint(self, module, state_dict, prefix, *args):
        """Record that a state dict being loaded holds every teacher
        weight (a distillation checkpoint: ``load_from``, ``--resume``)."""
        if all(prefix + key in state_dict for key in module.state_dict()):
            self.teacher_weights = f'a checkpoint ({prefix}* keys)'

    def check_teacher_weights(self):
        """Refuse to distil from a teacher without trained weights.

        Raises:
            RandomTeacherError: No source gave the teacher weights and
                ``allow_random_teacher`` is False; the message lists the
                ways to give them.
        """
        if self.teacher_weights is None and not self.allow_random_teacher:
            raise RandomTeacherError(random_teacher_message(
                type(self).__name__))

    def train(self, mode=True):
        """Set the train mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, inputs, data_samples=None, mode='tensor'):
        """``loss``: :meth:`loss`; ``predict``/``tensor``: the student."""
        if self.channels_last and isinstance(
                inputs, torch.Tensor) and inputs.dim() == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        if mode == 'loss':
            try:
                return self.loss(inputs, data_samples)
            finally:
                # The graph keeps what the losses need; drop the rest.
                self.student_taps.clear()
                self.teacher_taps.clear()
        if mode == 'predict' and self.predict_teacher_logits:
            return add_teacher_logits(
                self.teacher, inputs, data_samples,
                self.student(inputs, data_samples, mode=mode))
        if mode in ('predict', 'tensor'):
            return self.student(inputs, data_samples, mode=mode)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')

    def loss(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """The losses of one batch; implemented by each distiller."""
        raise NotImplementedError

    def run_teacher(self, inputs, data_samples):
        """Run the frozen teacher in tensor mode under ``no_grad``,
        recording its taps."""
        with self.teacher_taps.recording(), torch.no_grad():
            return self.teacher(inputs, data_samples, mode='tensor')

    def run_student(self, inputs, data_samples, mode='loss'):
        """Run the student in ``mode``, recording its taps."""
        with self.student_taps.recording():
            return self.student(inputs, data_samples, mode=mode)

    def data_field(self, data_samples, field):
        """``field`` of the batch's data samples (see
        :func:`read_data_field`)."""
        device = next(self.student.parameters()).device
        return read_data_field(data_samples, field, device)

    @staticmethod
    def call_term(what, module, inputs, sources=None, positional=False):
        """Call a loss or connector; if it fails, name everything.

        Args:
            what (str): How the error names the call, e.g.
                ``"distill loss 'kd'"`` or ``"connector 's_embed'"``.
            module (callable): The loss or connector.
            inputs (dict): Argument name (or, with ``positional``, a label
                such as ``"tap 'student.feat'"``) to value.
            sources (dict, optional): Argument name to where its value came
                from, e.g. ``"tap 'student.feat' via connector 's_embed'"``.
            positional (bool): Pass the values positionally, in order.

        Returns:
            The module's output.

        Raises:
            ValueError, RuntimeError, IndexError: Re-raised with ``what``,
                the module's type and each input's source and shape.
        """
        try:
            if positional:
                return module(*inputs.values())
            return module(**inputs)
        except (ValueError, RuntimeError, IndexError) as err:
            sources = sources or {}
            described = '; '.join(
                (f'{arg} <- {sources[arg]}' if arg in sources else arg) +
                f' {shape_of(value)}' for arg, value in inputs.items())
            raise type(err)(f'{what} ({type(module).__name__}) failed on '
                            f'[{described}]: {err}') from err
