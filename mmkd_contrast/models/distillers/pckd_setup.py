"""PCKD's defaults and build-time checks: taps, connectors, loss terms."""
import logging

import torch.nn as nn
from mmengine.logging import print_log

from ...utils import build_entry, build_in_scope

#: Taps PCKD reads: the pooled penultimate feature and the linear
#: classifier, whose weight rows are the category centres.
DEFAULT_TAPS = dict(feat='neck', centres='head.fc.weight', bias='head.fc.bias')

#: What the centres and bias taps must point at, added to a tap error.
TAP_HINTS = {
    name: 'PCKD takes the category centres from a linear classifier: point '
    'the centres (and bias) taps at its weight (and bias) parameter, e.g. '
    "'head.fc.weight'; a head without a linear classifier cannot be used."
    for name in ('centres', 'bias')
}

#: The trained heads: ``e_s: d_s -> d_s`` and ``e_t: d_s -> d_t`` (Linear +
#: L2 norm) of ``L_CC``, and ``g: d_s -> d_t`` (Linear -> BN -> ReLU ->
#: Linear, hidden width ``ALIGN_HIDDEN_RATIO * d_t``) of ``L_FA``. The
#: widths are filled in from the classifiers.
DEFAULT_CONNECTORS = dict(
    s_embed=dict(type='ProjectionHead'),
    t_embed=dict(type='ProjectionHead'),
    s_align=dict(type='ProjectionHead', norm=False))

#: Default hidden width of the ``s_align`` connector, as a multiple of d_t.
ALIGN_HIDDEN_RATIO = 16

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
    ca=dict(type='CentreAlignLoss', loss_weight=1.0),
    fa=dict(type='FeatureAlignLoss', loss_weight=20.0))

#: The preview-weighted KD term with delta = 1, tau = 4 (``distill_losses.kd``
#: of the ``+kd`` configs).
KD_LOSS = dict(type='KDLoss', tau=4.0, loss_weight=1.0)

#: The preview weighting of the authors' code: ``base ** epoch`` threshold
#: with base 1.005 (their 240 epochs).
DEFAULT_PREVIEW = dict(type='PreviewWeighting', base=1.005)

#: The terms, in build order, with the names logs give them.
TERMS = {
    'kd': 'L_KD (preview-weighted KD on the unrotated views',
    'cc': 'L_CC (category-centre contrast',
    'ca': 'L_CA (centre alignment',
    'fa': 'L_FA (feature alignment',
}

MULTI_VIEW_PREPROCESSORS = ('MultiViewClsDataPreprocessor',
                            'mmkd_contrast.MultiViewClsDataPreprocessor')


def with_defaults(given, defaults, key, templates=None):
    """``given`` over ``defaults``, key by key: the settings PCKD builds.

    A key not given keeps its default; a given entry replaces it (None
    switches it off); a given dict without ``type`` is a partial override,
    merged over the default entry (or over ``templates[key]`` when the
    default is off, e.g. ``kd`` over :data:`KD_LOSS`). The defaults are
    stated here once; configs give only what differs.

    Args:
        given (dict | None): What the config gives.
        defaults (dict): Name to default entry.
        key (str): The config key, for the error, e.g.
            ``'model.distill_losses'``.
        templates (dict, optional): Entries to merge a typeless dict over
            where the default is None.

    Returns:
        dict: One entry per name of ``defaults``.

    Raises:
        KeyError: ``given`` has a name ``defaults`` does not.
    """
    merged = dict(defaults)
    if given is None:
        return merged
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise KeyError(
            f'PCKDDistiller: {key} has unknown keys {unknown}; its keys are '
            f'{sorted(defaults)} (one not given keeps its default, None '
            'switches it off)')
    for name, cfg in given.items():
        base = defaults[name]
        if base is None and templates:
            base = templates.get(name)
        if isinstance(cfg, dict) and 'type' not in cfg and base is not None:
            cfg = dict(base, **cfg)
        merged[name] = cfg
    return merged


def preview_with_defaults(preview):
    """The preview config: a dict without ``type`` is merged over
    :data:`DEFAULT_PREVIEW`; None gives it; anything else is kept."""
    if preview is None:
        return dict(DEFAULT_PREVIEW)
    if isinstance(preview, dict) and 'type' not in preview:
        return dict(DEFAULT_PREVIEW, **preview)
    return preview


def split_multi_view_preprocessor(student, data_preprocessor):
    """Keep a multi-view preprocessor config for the distiller and give the
    student the same settings as a plain ``ClsDataPreprocessor``.

    Returns:
        tuple: ``(student, data_preprocessor)``, unchanged unless the
        preprocessor is a multi-view config and the student has none.
    """
    if (isinstance(data_preprocessor, dict)
            and data_preprocessor.get('type') in MULTI_VIEW_PREPROCESSORS
            and isinstance(student, dict)
            and not student.get('data_preprocessor')):
        student = dict(
            student,
            data_preprocessor=dict(
                data_preprocessor, type='mmpretrain.ClsDataPreprocessor'))
        data_preprocessor = build_in_scope(data_preprocessor)
    return student, data_preprocessor


def check_taps(student_taps, teacher_taps):
    """Check PCKD's taps; return the classifier widths ``(C, d_s, d_t)``.

    Raises:
        KeyError: ``feat`` or ``centres`` is missing, or a bias tap is given
            for one network only.
        ValueError: A centres or bias tap names a module, a centres tap is
            not 2-D, or the networks classify different numbers of classes.
    """
    for recorder in (student_taps, teacher_taps):
        role = recorder.role
        for name in ('feat', 'centres'):
            if name not in recorder:
                raise KeyError(
                    f'PCKDDistiller: {role}_taps must define {name!r} '
                    f'(defaults: {DEFAULT_TAPS}); got '
                    f'{sorted(recorder.specs)}')
        for name in ('centres', 'bias'):
            if name in recorder and recorder.specs[name]['kind'] != 'param':
                raise ValueError(
                    f'PCKDDistiller: {role}_taps.{name} must name a '
                    'parameter of the linear classifier (e.g. '
                    f"'head.fc.{'weight' if name == 'centres' else name}'"
                    f"), got the module '{recorder.specs[name]['path']}'")
        centres = recorder.get('centres')
        if centres.dim() != 2:
            raise ValueError(
                f'PCKDDistiller: {role}_taps.centres '
                f"'{recorder.specs['centres']['path']}' must be a classifier "
                f'weight of shape (num_classes, width), got '
                f'{tuple(centres.shape)}')
    if ('bias' in student_taps) != ('bias' in teacher_taps):
        raise KeyError('PCKDDistiller: give a bias tap for both the '
                       'student and the teacher, or for neither')
    w_s, w_t = student_taps.get('centres'), teacher_taps.get('centres')
    if w_s.shape[0] != w_t.shape[0]:
        raise ValueError(
            f'PCKDDistiller: the student has {w_s.shape[0]} classes '
            f"(student_taps.centres '{student_taps.specs['centres']['path']}'"
            f' {tuple(w_s.shape)}) but the teacher has {w_t.shape[0]} '
            f"(teacher_taps.centres '{teacher_taps.specs['centres']['path']}'"
            f' {tuple(w_t.shape)}); they must classify the same classes')
    return w_s.shape[0], w_s.shape[1], w_t.shape[1]


def build_connectors(connectors, losses, d_s, d_t):
    """Build the connectors the active terms need, widths filled in.

    ``s_embed`` and ``t_embed`` are always built (the default in-order
    build keeps seeded initialisation stable); ``s_align`` only when ``fa``
    is active: a config for it is otherwise ignored.

    Args:
        connectors (dict): Name to config or module, defaults filled in
            (:func:`with_defaults`).
        losses (dict): The ``distill_losses`` configs (None = term off).
        d_s (int): Student feature width.
        d_t (int): Teacher feature width.

    Returns:
        nn.ModuleDict: ``s_embed``, ``t_embed`` and, with ``fa``, ``s_align``.

    Raises:
        KeyError: A needed connector is switched off.
        ValueError: A connector's widths do not match the classifiers.
    """
    needed = ['s_embed', 't_embed']
    if losses.get('fa') is not None:
        needed.append('s_align')
    missing = [name for name in needed if connectors.get(name) is None]
    if missing:
        raise KeyError(
            'PCKDDistiller: connectors are s_embed and t_embed (the heads '
            'e_s and e_t of L_CC) and s_align (g of L_FA, needed while '
            f'distill_losses.fa is set); {missing} switched off')
    widths = dict(s_embed=(d_s, d_s), t_embed=(d_s, d_t), s_align=(d_s, d_t))
    built = nn.ModuleDict()
    for name in needed:
        in_channels, out_channels = widths[name]
        cfg = connectors[name]
        if not isinstance(cfg, nn.Module):
            cfg = dict(cfg)
            cfg.setdefault('in_channels', in_channels)
            cfg.setdefault('out_channels', out_channels)
            if name == 's_align':
                cfg.setdefault('hidden_channels', ALIGN_HIDDEN_RATIO * d_t)
            cfg = build_entry(cfg, f'model.connectors.{name}')
        got = (getattr(cfg, 'in_channels', in_channels),
               getattr(cfg, 'out_channels', out_channels))
        if got != (in_channels, out_channels):
            raise ValueError(
                f'PCKDDistiller: connector {name!r} must map d_s = '
                f'{d_s} to {out_channels} (the width of the '
                f'{"student" if name == "s_embed" else "teacher"} '
                f'classifier), got in_channels={got[0]}, '
                f'out_channels={got[1]}')
        built[name] = cfg
    return built


def build_losses(losses, d_s, d_t):
    """Build the active terms.

    A loss with an ``is_applicable(d_s, d_t)`` that says no (``L_CA`` when
    the widths differ) is left out.

    Returns:
        tuple: ``(nn.ModuleDict of the active terms, list of the names left
        out as not applicable)``.
    """
    built, not_applicable = nn.ModuleDict(), []
    for name in TERMS:
        cfg = losses[name]
        if cfg is None:
            continue
        loss = cfg if isinstance(cfg, nn.Module) else build_entry(
            cfg, f'model.distill_losses.{name}')
        applicable = getattr(loss, 'is_applicable', None)
        if applicable is not None and not applicable(d_s, d_t):
            not_applicable.append(name)
            continue
        built[name] = loss
    return built, not_applicable


def log_terms(losses, not_applicable, d_s, d_t):
    """Log the active terms and, as a warning, each one left out."""
    active = ', '.join(
        f'{name} (loss_weight={getattr(loss, "loss_weight", "?")})'
        for name, loss in losses.items())
    print_log(f'PCKDDistiller: student CE + {active or "no terms"}',
              logger='current')
    for name in not_applicable:
        print_log(
            f'PCKDDistiller: {TERMS[name]}, distill_losses.{name}) is '
            f'absent: the student feature width d_s = {d_s} differs from '
            f"the teacher's d_t = {d_t}, and the term is only defined when "
            'they are equal.',
            logger='current',
            level=logging.WARNING)
