"""PCKD: preview-based category contrastive distillation, the algorithm."""
import logging
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import print_log

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import should_check_values
from ...utils import build_entry, shape_of
from . import pckd_setup
from .base_distiller import BaseDistiller
from .hyperparam_check import check_hyperparams
from .multi_view_batch import check_multi_view_batch


@MODELS.register_module()
class PCKDDistiller(BaseDistiller):
    """Preview-based category contrastive distillation (PCKD).

    `Preview-based Category Contrastive Learning for Knowledge Distillation
    <https://arxiv.org/abs/2410.14143>`_.

    Every training image comes as ``V = 4`` views rotated by 0°, 90°, 180°
    and 270° (:class:`~mmkd_contrast.datasets.RotationViews`), flattened
    view-major by
    :class:`~mmkd_contrast.models.MultiViewClsDataPreprocessor` into
    ``N = V * B`` samples whose first ``B`` rows are the unrotated images.
    The teacher and the student both run on all ``N``; then, with ``f`` the
    pooled penultimate features, ``W``/``b`` the classifier weight/bias (the
    category centres) and ``z`` the logits::

        CE_i   = CE(z_s_i, y_i)                    i < B (unrotated views)
        v      = PreviewWeighting(CE, epoch)       detached, (B,)
        L_KD   = KD(z_s[:B], z_t[:B], weight=v)
        L_CC   = CategoryContrast(s_scores, t_scores, y, weight=v repeated V)
                 s_scores = e_s(f_s) @ W_s.T,  t_scores = e_t(f_s) @ W_t.T
        L_CA   = MSE([W_s | b_s], [W_t | b_t])     only when d_s == d_t
        L_FA   = 2 - 2 * mean cos(g(f_s), f_t)

        L = mean(CE) + delta * L_KD + beta * L_CC + alpha * L_CA + f * L_FA

    The authors' released training command, and so this distiller's
    defaults and the shipped ``pckd_*`` configs, have no KD term
    (``delta = 0``: ``distill_losses.kd=None``) and ``beta = 0.05``,
    ``alpha = 1``, ``f = 20``; the ``pckd+kd_*`` configs add it with
    ``delta = 1`` (:data:`~.pckd_setup.KD_LOSS`).

    ``e_s``, ``e_t`` and ``g`` are the trained connectors ``s_embed``,
    ``t_embed`` and ``s_align``; the losses hold no parameters.

    The weights and temperatures are the ``loss_weight``, ``tau``,
    ``temperature`` and ``base_temperature`` of the loss configs in
    ``distill_losses``; the preview schedule (``base``, ``final_threshold``)
    is the ``preview`` config. The epoch (and ``max_epochs``, used with
    ``final_threshold``) is set by
    :class:`~mmkd_contrast.engine.hooks.DistillEpochHook` through
    :meth:`set_epoch` before every training epoch; ``forward`` only reads
    it.

    Losses are logged as ``student.loss`` (the CE on the unrotated views,
    with the student head's loss settings, e.g. its ``loss_weight`` and
    label smoothing), ``distill.loss_kd`` (when ``kd`` is set),
    ``distill.loss_cc``,
    ``distill.loss_ca`` and ``distill.loss_fa``; ``distill.preview_weight``
    (the batch mean of ``v``) is logged but not added to the loss.
    ``predict`` and ``tensor`` modes run the student alone on single-view
    inputs, so validation and test use the standard pipeline.

    Args:
        student (dict | nn.Module): The student classifier (an mmpretrain
            ``ImageClassifier`` with a ``ClsHead``).
        teacher (dict | nn.Module): The teacher classifier.
        teacher_ckpt (str, optional): Teacher weights; see
            :class:`BaseDistiller`.
        student_taps (dict, optional): Must define ``feat`` (the pooled
            penultimate feature, ``(N, d_s)``) and ``centres`` (the
            classifier weight parameter, ``(C, d_s)``); ``bias`` (the
            classifier bias) is optional, and given for both networks or
            neither. Defaults to :data:`~.pckd_setup.DEFAULT_TAPS`
            (``neck``, ``head.fc.weight``, ``head.fc.bias``).
        teacher_taps (dict, optional): The same for the teacher.
            Defaults to :data:`~.pckd_setup.DEFAULT_TAPS`.
        connectors (dict, optional): ``s_embed`` and ``t_embed``, the
            heads ``e_s`` and ``e_t`` (Linear + L2 norm), and ``s_align``,
            the MLP ``g`` (Linear -> BN -> ReLU -> Linear). Their
            ``in_channels``/``out_channels`` default to ``d_s -> d_s``,
            ``d_s -> d_t`` and ``d_s -> d_t``, read from the classifier
            weights; ``s_align``'s ``hidden_channels`` to ``16 * d_t``.
            ``s_align`` is only built while ``distill_losses.fa`` is set (a
            config for it is otherwise ignored). Given over
            :data:`~.pckd_setup.DEFAULT_CONNECTORS` key by key
            (:func:`~.pckd_setup.with_defaults`).
        distill_losses (dict, optional): The keys ``kd``, ``cc``, ``ca``
            and ``fa`` (a ``KDLoss``, ``CategoryContrastLoss``,
            ``CentreAlignLoss`` and ``FeatureAlignLoss`` config, or None to
            switch that term off), given over
            :data:`~.pckd_setup.DEFAULT_LOSSES` (the released objective,
            without ``kd``) key by key: a key not given keeps its default,
            a dict without ``type`` is merged over the default entry (for
            ``kd``, over :data:`~.pckd_setup.KD_LOSS`).
        preview (dict | nn.Module, optional): The ``PreviewWeighting``
            config; a dict without ``type`` (e.g.
            ``dict(final_threshold=3.31)``) is merged over
            :data:`~.pckd_setup.DEFAULT_PREVIEW` (base 1.005).
        data_preprocessor (dict | nn.Module, optional): Usually
            ``dict(type='MultiViewClsDataPreprocessor', ...)``. A
            multi-view preprocessor config stays with the distiller and the
            student gets the same settings as a plain
            ``ClsDataPreprocessor``, so the exported student is a plain
            mmpretrain model. Other values behave as in
            :class:`BaseDistiller`.
        init_cfg (dict | list[dict], optional): Initialization config.
        allow_random_teacher (bool): See :class:`BaseDistiller`.
        channels_last (bool): See :class:`BaseDistiller`.

    Raises:
        KeyError: A required tap, connector or loss key is missing, or an
            unknown one is given.
        ValueError: A centre tap is not a 2-D parameter, the networks have
            different numbers of classes, or a connector's widths do not
            match the classifiers.
    """

    TAP_HINTS = pckd_setup.TAP_HINTS

    def __init__(self,
                 student: Union[dict, torch.nn.Module],
                 teacher: Union[dict, torch.nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 student_taps: Optional[dict] = None,
                 teacher_taps: Optional[dict] = None,
                 connectors: Optional[dict] = None,
                 distill_losses: Optional[dict] = None,
                 preview: Optional[Union[dict, torch.nn.Module]] = None,
                 data_preprocessor: Optional[Union[dict,
                                                   torch.nn.Module]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None,
                 allow_random_teacher: bool = False,
                 channels_last: bool = False) -> None:
        connectors = pckd_setup.with_defaults(
            connectors, pckd_setup.DEFAULT_CONNECTORS, 'model.connectors')
        distill_losses = pckd_setup.with_defaults(
            distill_losses, pckd_setup.DEFAULT_LOSSES, 'model.distill_losses',
            templates=dict(kd=pckd_setup.KD_LOSS))
        preview = pckd_setup.preview_with_defaults(preview)
        check_hyperparams(distill_losses, 'model.distill_losses')
        check_hyperparams(connectors, 'model.connectors')
        check_hyperparams(dict(preview=preview), 'model')
        student, data_preprocessor = \
            pckd_setup.split_multi_view_preprocessor(student,
                                                     data_preprocessor)
        defaults = pckd_setup.DEFAULT_TAPS
        super().__init__(
            student=student,
            teacher=teacher,
            teacher_ckpt=teacher_ckpt,
            student_taps=defaults if student_taps is None else student_taps,
            teacher_taps=defaults if teacher_taps is None else teacher_taps,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            allow_random_teacher=allow_random_teacher,
            channels_last=channels_last)
        self.num_classes, d_s, d_t = pckd_setup.check_taps(
            self.student_taps, self.teacher_taps)
        loss_head = getattr(getattr(self.student, 'head', None),
                            'loss_module', None)
        if not callable(loss_head):
            raise TypeError(
                'PCKDDistiller computes the student CE per sample with the '
                "student head's loss module and needs student.head."
                'loss_module (an mmpretrain ClsHead); '
                f'{type(self.student).__name__} has none')

        self.connectors = pckd_setup.build_connectors(
            connectors, distill_losses, d_s, d_t)
        self.distill_losses, not_applicable = pckd_setup.build_losses(
            distill_losses, d_s, d_t)
        self.preview = preview if isinstance(
            preview, torch.nn.Module) else build_entry(preview,
                                                       'model.preview')
        self._epoch = None
        self._warned_no_epoch = False
        self.apply_memory_format()  # the connectors too
        # This epoch's preview threshold, written on the host each step.
        self.register_buffer('_threshold', torch.zeros(()), persistent=False)
        pckd_setup.log_terms(self.distill_losses, not_applicable, d_s, d_t)

    # ---------------------------------------------------------------- forward
    def _labels(self, data_samples):
        labels = self.data_field(data_samples, 'gt_label')
        if not should_check_values(self, 'labels'):
            # Reading values syncs with a GPU: first call, or debug checks.
            return labels
        low, high = int(labels.min()), int(labels.max())
        bad = low if low < 0 else high if high >= self.num_classes else None
        if bad is not None:
            raise ValueError(
                f'PCKDDistiller: label {bad} is outside [0, '
                f'{self.num_classes}) (the classifiers have '
                f'{self.num_classes} classes)')
        return labels

    def set_epoch(self, epoch: int, max_epochs: Optional[int] = None) -> None:
        """Set the training epoch the preview weights follow.

        Called by :class:`~mmkd_contrast.engine.hooks.DistillEpochHook`
        before every training epoch.

        Args:
            epoch (int): The current epoch, starting at 1.
            max_epochs (int, optional): The schedule's length, handed to the
                preview weighting when it derives its base from
                ``final_threshold``.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, int) or \
                epoch < 1:
            raise ValueError('PCKDDistiller.set_epoch: epoch is 1-based, '
                             f'got {epoch!r}')
        self._epoch = epoch
        if max_epochs is not None and getattr(
                self.preview, 'final_threshold', None) is not None:
            self.preview.set_max_epochs(max_epochs)

    def current_epoch(self) -> int:
        """The 1-based training epoch given to :meth:`set_epoch`.

        Before any (outside a runner, or without ``DistillEpochHook``) the
        epoch is 1, with a warning once.

        Returns:
            int: The current epoch, starting at 1.
        """
        if self._epoch is None:
            if not self._warned_no_epoch:
                print_log(
                    'PCKDDistiller: no epoch was set (set_epoch, called by '
                    'DistillEpochHook in a runner); preview weights use '
                    'epoch 1.',
                    logger='current',
                    level=logging.WARNING)
                self._warned_no_epoch = True
            return 1
        return self._epoch

    @torch.compiler.disable
    def preview_threshold(self):
        """This epoch's preview threshold ``t_e``, as a 0-d tensor.

        It runs outside ``torch.compile`` (the one graph break of a
        compiled PCKD step): the epoch (:meth:`set_epoch`, from
        ``DistillEpochHook``) is read on the host and written into a buffer
        (no sync on a GPU), so a
        new epoch changes a tensor's value, not a constant of the compiled
        graph, which would be recompiled every epoch.

        Returns:
            Tensor: The buffer holding ``t_e`` of :meth:`current_epoch`.
        """
        self._threshold.fill_(self.preview.threshold(self.current_epoch()))
        return self._threshold

    def _student_ce(self, logits, labels):
        ce = self.student.head.loss_module(
            logits, labels, reduction_override='none')
        if ce.shape != labels.shape:
            raise ValueError(
                'PCKDDistiller: the student head loss '
                f'({type(self.student.head.loss_module).__name__}) returned '
                f"{tuple(ce.shape)} with reduction_override='none', expected "
                f'one value per sample {tuple(labels.shape)}')
        return ce

    def _term(self, name, **inputs):
        return self.call_term(f"PCKD term '{name}'",
                              self.distill_losses[name], inputs)

    def _connect(self, name, feat):
        return self.call_term(f"connector '{name}'", self.connectors[name],
                              {"tap 'student.feat'": feat}, positional=True)

    def _embed(self, name, feat, centres):
        """``e(f) @ W.T``, the class scores of one head."""
        embedded = self._connect(name, feat)
        if embedded.shape[-1] != centres.shape[1]:
            raise ValueError(
                f"PCKDDistiller: connector '{name}' gives {shape_of(embedded)}"
                f' but the centres are {tuple(centres.shape)}')
        return embedded @ centres.t()

    def loss(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """The PCKD losses of one multi-view batch.

        Args:
            inputs (Tensor): ``(V*B, C, H, W)``, view-major, rows ``0..B-1``
                unrotated.
            data_samples (list[DataSample]): ``V*B`` samples with
                ``num_views`` and ``view_index`` metainfo.

        Returns:
            dict: ``student.loss``, ``distill.loss_<term>`` for the active
            terms, and ``distill.preview_weight`` (logged only).
        """
        threshold = self.preview_threshold()
        num_views, num_images = check_multi_view_batch(inputs,
                                                       data_samples)
        labels = self._labels(data_samples)
        unrotated = slice(0, num_images)

        # Both networks on all V*B views; the teacher under no_grad.
        logits_t = self.run_teacher(inputs, data_samples)
        logits_s = self.run_student(inputs, data_samples, mode='tensor')
        feat_s = self.student_taps.get('feat')
        feat_t = self.teacher_taps.get('feat')
        centres_s = self.student_taps.get('centres')
        centres_t = self.teacher_taps.get('centres').detach()

        # L_CE on the unrotated views, and the preview weights from it.
        ce = self._student_ce(logits_s[unrotated], labels[unrotated])
        losses = {'student.loss': ce.mean()}
        weight = self.preview.weights(ce, threshold)
        losses['distill.preview_weight'] = weight.mean()

        if 'kd' in self.distill_losses:
            losses['distill.loss_kd'] = self._term(
                'kd',
                s_logits=logits_s[unrotated],
                t_logits=logits_t[unrotated],
                weight=weight)
        if 'cc' in self.distill_losses:
            # Both heads take the student feature.
            losses['distill.loss_cc'] = self._term(
                'cc',
                s_scores=self._embed('s_embed', feat_s, centres_s),
                t_scores=self._embed('t_embed', feat_s, centres_t),
                labels=labels,
                weight=weight.repeat(num_views))
        if 'ca' in self.distill_losses:
            has_bias = 'bias' in self.student_taps
            losses['distill.loss_ca'] = self._term(
                'ca',
                s_centres=centres_s,
                t_centres=centres_t,
                s_bias=self.student_taps.get('bias') if has_bias else None,
                t_bias=self.teacher_taps.get('bias').detach()
                if has_bias else None)
        if 'fa' in self.distill_losses:
            losses['distill.loss_fa'] = self._term(
                'fa', s_feat=self._connect('s_align', feat_s), t_feat=feat_t)
        return losses
