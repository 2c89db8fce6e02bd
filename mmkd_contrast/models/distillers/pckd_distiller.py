"""PCKD: preview-based category contrastive distillation, the whole method."""
import logging
from typing import Dict

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, print_log

from mmkd_contrast.registry import MODELS
from mmkd_contrast.utils import should_check_values
from .hyperparam_check import check_hyperparams
from ..utils import build_in_scope, shape_of
from .single_teacher_distiller import SingleTeacherDistiller

#: Taps PCKD reads: the pooled penultimate feature and the linear
#: classifier, whose weight rows are the category centres.
DEFAULT_TAPS = dict(feat='neck', centres='head.fc.weight', bias='head.fc.bias')

#: The embedding heads ``e_s: d_s -> d_s`` and ``e_t: d_s -> d_t`` (Linear +
#: L2 norm); the widths are filled in from the classifiers.
DEFAULT_CONNECTORS = dict(
    embed_s=dict(type='ProjectionHead'), embed_t=dict(type='ProjectionHead'))

#: The objective of the authors' released training command: no KD term
#: (delta = 0), beta = 0.05, alpha = 1, f = 20. :data:`KD_LOSS` is the
#: optional KD term (delta = 1, tau = 4) of the ``+kd`` configs.
DEFAULT_LOSSES = dict(
    kd=None,
    cc=dict(
        type='CategoryContrastLoss',
        temperature=4.0,
        base_temperature=0.07,
        loss_weight=0.05),
    ca=dict(type='CenterAlignLoss', loss_weight=1.0),
    fa=dict(type='FeatureAlignLoss', hidden_ratio=16, loss_weight=20.0))

#: The preview-weighted KD term with delta = 1, tau = 4 (``distill_losses.kd``
#: of the ``+kd`` configs).
KD_LOSS = dict(type='KDLoss', tau=4.0, loss_weight=1.0)

TERMS = {
    'kd': 'L_KD on the unrotated views, preview-weighted (delta)',
    'cc': 'L_CC category-centre contrast on all views (beta)',
    'ca': 'L_CA centre alignment (alpha)',
    'fa': 'L_FA feature alignment on all views (f)',
}

MULTI_VIEW_PREPROCESSORS = ('MultiViewClsDataPreprocessor',
                            'mmkd_contrast.MultiViewClsDataPreprocessor')


@MODELS.register_module()
class PCKDDistiller(SingleTeacherDistiller):
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
        u_s    = e_s(f_s) @ W_s.T                  u_t = e_t(f_s) @ W_t.T
        L_CC   = CategoryContrast(u_s, u_t, y, weight=v repeated V times)
        L_CA   = MSE([W_s | b_s], [W_t | b_t])     only when d_s == d_t
        L_FA   = 2 - 2 * mean cos(g(f_s), f_t)

        L = mean(CE) + delta * L_KD + beta * L_CC + alpha * L_CA + f * L_FA

    The authors' released training command, and so this distiller's
    defaults and the shipped ``pckd_*`` configs, have no KD term
    (``delta = 0``: ``distill_losses.kd=None``) and ``beta = 0.05``,
    ``alpha = 1``, ``f = 20``; the ``pckd+kd_*`` configs add it with
    ``delta = 1`` (:data:`KD_LOSS`).

    The weights and temperatures are the ``loss_weight``, ``tau``,
    ``temperature`` and ``base_temperature`` of the loss configs in
    ``distill_losses``; the preview schedule (``base``, ``final_threshold``)
    is the ``preview`` config. The epoch comes from mmengine's
    ``MessageHub`` (``'epoch'`` is 0-based there), and so does
    ``max_epochs`` when ``final_threshold`` is set.

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
            :class:`SingleTeacherDistiller`.
        student_taps (dict, optional): Must define ``feat`` (the pooled
            penultimate feature, ``(N, d_s)``) and ``centres`` (the
            classifier weight parameter, ``(C, d_s)``); ``bias`` (the
            classifier bias) is optional, and given for both networks or
            neither. Defaults to :data:`DEFAULT_TAPS`
            (``neck``, ``head.fc.weight``, ``head.fc.bias``).
        teacher_taps (dict, optional): The same for the teacher.
            Defaults to :data:`DEFAULT_TAPS`.
        connectors (dict, optional): ``embed_s`` and ``embed_t``, the
            heads ``e_s`` and ``e_t`` (Linear + L2 norm). Their
            ``in_channels``/``out_channels`` default to ``d_s -> d_s`` and
            ``d_s -> d_t``, read from the classifier weights. Defaults to
            :data:`DEFAULT_CONNECTORS`.
        distill_losses (dict, optional): Exactly the keys ``kd``, ``cc``,
            ``ca`` and ``fa`` (a ``KDLoss``, ``CategoryContrastLoss``,
            ``CenterAlignLoss`` and ``FeatureAlignLoss`` config, or None to
            switch that term off). ``fa``'s ``in_channels``/``out_channels``
            default to ``d_s``/``d_t``. Defaults to :data:`DEFAULT_LOSSES`
            (the released objective, without ``kd``).
        preview (dict | nn.Module, optional): The ``PreviewWeighting``
            config. Defaults to ``dict(type='PreviewWeighting',
            base=1.005)``.
        data_preprocessor (dict | nn.Module, optional): Usually
            ``dict(type='MultiViewClsDataPreprocessor', ...)``. A
            multi-view preprocessor config stays with the distiller and the
            student gets the same settings as a plain
            ``ClsDataPreprocessor``, so the exported student is a plain
            mmpretrain model. Other values behave as in
            :class:`SingleTeacherDistiller`.
        init_cfg (dict, optional): Initialization config.

    Raises:
        KeyError: A required tap, connector or loss key is missing, or an
            unknown one is given.
        ValueError: A centre tap is not a 2-D parameter, the networks have
            different numbers of classes, or a connector's widths do not
            match the classifiers.
    """

    def __init__(self,
                 student,
                 teacher,
                 teacher_ckpt=None,
                 student_taps=None,
                 teacher_taps=None,
                 connectors=None,
                 distill_losses=None,
                 preview=None,
                 data_preprocessor=None,
                 init_cfg=None):
        check_hyperparams(distill_losses, 'model.distill_losses')
        check_hyperparams(connectors, 'model.connectors')
        check_hyperparams(dict(preview=preview), 'model')
        if (isinstance(data_preprocessor, dict)
                and data_preprocessor.get('type') in MULTI_VIEW_PREPROCESSORS
                and isinstance(student, dict)
                and not student.get('data_preprocessor')):
            student = dict(
                student,
                data_preprocessor=dict(
                    data_preprocessor, type='mmpretrain.ClsDataPreprocessor'))
            data_preprocessor = build_in_scope(data_preprocessor)
        try:
            super().__init__(
                student=student,
                teacher=teacher,
                teacher_ckpt=teacher_ckpt,
                student_taps=DEFAULT_TAPS
                if student_taps is None else student_taps,
                teacher_taps=DEFAULT_TAPS
                if teacher_taps is None else teacher_taps,
                data_preprocessor=data_preprocessor,
                init_cfg=init_cfg)
        except ValueError as err:
            if '_taps.centres:' in str(err) or '_taps.bias:' in str(err):
                raise ValueError(
                    f'{err}. PCKD takes the category centres from a linear '
                    'classifier: point the centres (and bias) taps at its '
                    "weight (and bias) parameter, e.g. 'head.fc.weight'; a "
                    'head without a linear classifier cannot be used.'
                ) from err
            raise

        self._check_taps()
        w_s = self.student_taps.get('centres')
        w_t = self.teacher_taps.get('centres')
        if w_s.shape[0] != w_t.shape[0]:
            raise ValueError(
                f'PCKDDistiller: the student has {w_s.shape[0]} classes '
                f"(student_taps.centres '{self._path('student', 'centres')}'"
                f' {tuple(w_s.shape)}) but the teacher has {w_t.shape[0]} '
                f"(teacher_taps.centres '{self._path('teacher', 'centres')}'"
                f' {tuple(w_t.shape)}); they must classify the same classes')
        self.num_classes = w_s.shape[0]
        d_s, d_t = w_s.shape[1], w_t.shape[1]

        loss_head = getattr(getattr(self.student, 'head', None),
                            'loss_module', None)
        if not callable(loss_head):
            raise TypeError(
                'PCKDDistiller computes the student CE per sample with the '
                "student head's loss module and needs student.head."
                'loss_module (an mmpretrain ClsHead); '
                f'{type(self.student).__name__} has none')

        self.connectors = self._build_connectors(connectors, d_s, d_t)
        self._ca_absent = None
        self.distill_losses = self._build_losses(distill_losses, d_s, d_t)
        if preview is None:
            preview = dict(type='PreviewWeighting', base=1.005)
        self.preview = preview if isinstance(
            preview, nn.Module) else build_in_scope(preview)
        self._warned_no_epoch = False
        self._log_terms()

    # ------------------------------------------------------------------ build
    def _path(self, role, tap):
        return getattr(self, f'{role}_taps').specs[tap]['path']

    def _check_taps(self):
        for role in ('student', 'teacher'):
            recorder = getattr(self, f'{role}_taps')
            for name in ('feat', 'centres'):
                if name not in recorder:
                    raise KeyError(
                        f'PCKDDistiller: {role}_taps must define {name!r} '
                        f'(defaults: {DEFAULT_TAPS}); got '
                        f'{sorted(recorder.specs)}')
            for name in ('centres', 'bias'):
                if name in recorder and recorder.specs[name]['kind'] != \
                        'param':
                    raise ValueError(
                        f"PCKDDistiller: {role}_taps.{name} must name a "
                        "parameter of the linear classifier (e.g. "
                        f"'head.fc.{'weight' if name == 'centres' else name}'"
                        f"), got the module '{self._path(role, name)}'")
            centres = recorder.get('centres')
            if centres.dim() != 2:
                raise ValueError(
                    f"PCKDDistiller: {role}_taps.centres "
                    f"'{self._path(role, 'centres')}' must be a classifier "
                    f'weight of shape (num_classes, width), got '
                    f'{tuple(centres.shape)}')
        if ('bias' in self.student_taps) != ('bias' in self.teacher_taps):
            raise KeyError('PCKDDistiller: give a bias tap for both the '
                           'student and the teacher, or for neither')

    def _build_connectors(self, connectors, d_s, d_t):
        connectors = DEFAULT_CONNECTORS if connectors is None else connectors
        if set(connectors) != {'embed_s', 'embed_t'}:
            raise KeyError('PCKDDistiller: connectors must be exactly '
                           "'embed_s' and 'embed_t' (the heads e_s and e_t),"
                           f' got {sorted(connectors)}')
        widths = dict(embed_s=(d_s, d_s), embed_t=(d_s, d_t))
        built = nn.ModuleDict()
        for name, cfg in connectors.items():
            in_channels, out_channels = widths[name]
            if not isinstance(cfg, nn.Module):
                cfg = dict(cfg)
                cfg.setdefault('in_channels', in_channels)
                cfg.setdefault('out_channels', out_channels)
                cfg = build_in_scope(cfg)
            got = (getattr(cfg, 'in_channels', in_channels),
                   getattr(cfg, 'out_channels', out_channels))
            if got != (in_channels, out_channels):
                raise ValueError(
                    f'PCKDDistiller: connector {name!r} must map d_s = '
                    f'{d_s} to {out_channels} (the width of the '
                    f'{"student" if name == "embed_s" else "teacher"} '
                    f'classifier), got in_channels={got[0]}, '
                    f'out_channels={got[1]}')
            built[name] = cfg
        return built

    def _build_losses(self, distill_losses, d_s, d_t):
        distill_losses = DEFAULT_LOSSES if distill_losses is None \
            else distill_losses
        if set(distill_losses) != set(TERMS):
            raise KeyError(
                f'PCKDDistiller: distill_losses must have exactly the keys '
                f'{sorted(TERMS)} (None switches a term off), got '
                f'{sorted(distill_losses)}')
        built = nn.ModuleDict()
        for name in TERMS:
            cfg = distill_losses[name]
            if cfg is None:
                continue
            if name == 'ca' and d_s != d_t:
                # Logged once by _log_terms.
                self._ca_absent = (d_s, d_t)
                continue
            if name == 'fa' and not isinstance(cfg, nn.Module):
                cfg = dict(cfg)
                cfg.setdefault('in_channels', d_s)
                cfg.setdefault('out_channels', d_t)
            built[name] = cfg if isinstance(
                cfg, nn.Module) else build_in_scope(cfg)
        return built

    def _log_terms(self):
        active = ', '.join(
            f'{name} (loss_weight='
            f'{getattr(self.distill_losses[name], "loss_weight", "?")})'
            for name in self.distill_losses)
        print_log(f'PCKDDistiller: student CE + {active or "no terms"}',
                  logger='current')
        absent = self._ca_absent
        if absent is not None:
            print_log(
                'PCKDDistiller: L_CA (centre alignment, distill_losses.ca) '
                f'is absent: the student feature width d_s = {absent[0]} '
                f'differs from the teacher\'s d_t = {absent[1]}, and the '
                'term is only defined when they are equal.',
                logger='current',
                level=logging.WARNING)

    # ---------------------------------------------------------------- forward
    def _num_images(self, inputs, data_samples):
        """Check the view-major multi-view batch; return ``(V, B)``."""
        hint = ('PCKD trains on a multi-view batch: use the RotationViews '
                'transform and MultiViewClsDataPreprocessor')
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
            raise ValueError(f'PCKDDistiller expects inputs (V*B, C, H, W), '
                             f'got {shape_of(inputs)}. {hint}')
        if data_samples is None or len(data_samples) != inputs.shape[0]:
            raise ValueError(
                f'PCKDDistiller: {inputs.shape[0]} inputs but '
                f'{"no" if data_samples is None else len(data_samples)} '
                'data samples')
        num_views = data_samples[0].metainfo.get('num_views')
        if num_views is None:
            raise ValueError('PCKDDistiller: the data samples carry no '
                             f"'num_views' metainfo. {hint}")
        if inputs.shape[0] % num_views:
            raise ValueError(
                f'PCKDDistiller: {inputs.shape[0]} samples is not a multiple '
                f'of num_views = {num_views}')
        num_images = inputs.shape[0] // num_views
        for row, sample in enumerate(data_samples):
            if sample.metainfo.get('view_index') != row // num_images:
                raise ValueError(
                    f'PCKDDistiller: sample {row} has view_index '
                    f"{sample.metainfo.get('view_index')}, expected "
                    f'{row // num_images} in a view-major batch of '
                    f'{num_views} x {num_images}. {hint}')
        return num_views, num_images

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

    def current_epoch(self):
        """The 1-based training epoch from mmengine's ``MessageHub``.

        Also hands the hub's ``max_epochs`` to the preview weighting when
        it derives its base from ``final_threshold``. Outside a runner (no
        ``'epoch'`` info) the epoch is 1, with a warning once.

        Returns:
            int: The current epoch, starting at 1.
        """
        hub = MessageHub.get_current_instance()
        if getattr(self.preview, 'final_threshold', None) is not None:
            max_epochs = hub.get_info('max_epochs')
            if max_epochs is not None:
                self.preview.set_max_epochs(max_epochs)
        epoch = hub.get_info('epoch')
        if epoch is None:
            if not self._warned_no_epoch:
                print_log(
                    'PCKDDistiller: the MessageHub has no epoch (not run by '
                    'an mmengine Runner); preview weights use epoch 1.',
                    logger='current',
                    level=logging.WARNING)
                self._warned_no_epoch = True
            return 1
        return int(epoch) + 1

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
        loss = self.distill_losses[name]
        try:
            return loss(**inputs)
        except (ValueError, RuntimeError) as err:
            described = ', '.join(f'{arg} {shape_of(value)}'
                                  for arg, value in inputs.items())
            raise type(err)(f"PCKD term '{name}' ({type(loss).__name__}) "
                            f'failed on [{described}]: {err}') from err

    def _embed(self, name, feat, centres):
        """``e(f) @ W.T``, the class scores of one head."""
        embedded = self.connectors[name](feat)
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
        num_views, num_images = self._num_images(inputs, data_samples)
        labels = self._labels(data_samples)
        unrotated = slice(0, num_images)

        # Both networks on all V*B views; the teacher under no_grad.
        logits_t = self.run_teacher(inputs, data_samples)
        with self.student_taps.recording():
            logits_s = self.student(inputs, data_samples, mode='tensor')
        feat_s = self.student_taps.get('feat')
        feat_t = self.teacher_taps.get('feat')
        centres_s = self.student_taps.get('centres')
        centres_t = self.teacher_taps.get('centres').detach()

        # L_CE on the unrotated views, and the preview weights from it.
        ce = self._student_ce(logits_s[unrotated], labels[unrotated])
        losses = {'student.loss': ce.mean()}
        weight = self.preview(ce, self.current_epoch())
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
                u_s=self._embed('embed_s', feat_s, centres_s),
                u_t=self._embed('embed_t', feat_s, centres_t),
                labels=labels,
                weight=weight.repeat(num_views))
        if 'ca' in self.distill_losses:
            has_bias = 'bias' in self.student_taps
            losses['distill.loss_ca'] = self._term(
                'ca',
                w_s=centres_s,
                w_t=centres_t,
                b_s=self.student_taps.get('bias') if has_bias else None,
                b_t=self.teacher_taps.get('bias').detach()
                if has_bias else None)
        if 'fa' in self.distill_losses:
            losses['distill.loss_fa'] = self._term(
                'fa', f_s=feat_s, f_t=feat_t)
        return losses
