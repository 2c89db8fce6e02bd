"""Which of the plugin's connectors and losses can join two taps as shaped.

Each candidate method proposes the connectors and the loss that would
join a student tap to a teacher tap (adapting channels, tokens to maps,
vectors to embeddings), and the proposal is then built and run on the two
recorded outputs: a candidate is offered only if its modules accept them.
"""
import math

import torch

from ..utils import build_in_scope, shape_of

# Fragments name the plugin's types scoped, as the shipped configs do, so
# that they resolve whatever the config's default scope.
_T = 'mmkd_contrast.'


def _token_steps(x):
    """Connector configs turning ``x`` into a map, its channels and size.

    Returns None for a tensor that is neither a map ``(B, C, H, W)`` nor
    tokens ``(B, N, C)`` / ``(B, C, N)`` whose patch tokens form a square.
    """
    if x.dim() == 4:
        return [], x.shape[1], tuple(x.shape[2:])
    if x.dim() != 3:
        return None
    for extra in (0, 1, 2):
        side = math.isqrt(max(x.shape[1] - extra, 0))
        if side > 0 and side * side == x.shape[1] - extra:
            return ([dict(type=_T + 'TokenToMap', num_extra_tokens=extra)],
                    x.shape[2], (side, side))
    side = math.isqrt(x.shape[2])
    if side * side == x.shape[2]:
        return ([dict(type=_T + 'TokenToMap', channels_first=True)],
                x.shape[1], (side, side))
    return None


def _chain(steps):
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    return dict(type=_T + 'ConnectorSequence', connectors=steps)


def _source(role, tap, connector):
    if connector is None:
        return f'{role}.{tap}'
    return dict(tap=f'{role}.{tap}', connector=connector)


def _wiring(tap, loss_name, loss, s_steps, t_steps, args=('s_feat',
                                                          't_feat')):
    """A fragment: tap ``tap`` on both sides, optional connector chains."""
    connectors = {}
    s_conn = _chain(s_steps)
    t_conn = _chain(t_steps)
    if s_conn is not None:
        connectors[f's_{loss_name}'] = s_conn
    if t_conn is not None:
        connectors[f't_{loss_name}'] = t_conn
    inputs = {
        args[0]: _source('student', tap, s_conn and f's_{loss_name}'),
        args[1]: _source('teacher', tap, t_conn and f't_{loss_name}'),
    }
    fragment = dict(distill_losses={loss_name: loss},
                    loss_inputs={loss_name: inputs})
    if connectors:
        fragment['connectors'] = connectors
    return fragment


def propose_kd(s, t):
    if s.dim() not in (2, 4) or s.shape != t.shape:
        raise ValueError('KD needs logits of one shape on both sides, (B, '
                         'num_classes) or per position (B, C, H, W)')
    return _wiring('logits', 'kd', dict(type=_T + 'KDLoss', tau=4.0,
                                        loss_weight=1.0), [], [],
                   ('s_logits', 't_logits'))


def _vector_steps(x, role):
    if x.dim() in (2, 4):
        return [], x.shape[1]
    steps = _token_steps(x)
    if steps is None:
        raise ValueError(f'the {role} output is neither a vector, a map nor '
                         'square-gridded tokens')
    return steps[0], steps[1]


def propose_crd(s, t):
    s_steps, s_ch = _vector_steps(s, 'student')
    t_steps, t_ch = _vector_steps(t, 'teacher')
    head = dict(type=_T + 'ProjectionHead', out_channels=128)
    fragment = _wiring(
        'feat', 'crd',
        dict(type=_T + 'CRDLoss', num_samples=50000, feat_dim=128,
             num_negatives=4096, temperature=0.07, momentum=0.5,
             loss_weight=0.8),
        s_steps + [dict(head, in_channels=s_ch)],
        t_steps + [dict(head, in_channels=t_ch)], ('s_emb', 't_emb'))
    fragment['loss_inputs']['crd']['sample_idx'] = 'data.sample_idx'
    return fragment


def propose_feature_align(s, t):
    s_steps, s_ch = _vector_steps(s, 'student')
    t_steps, t_ch = _vector_steps(t, 'teacher')
    return _wiring(
        'feat', 'feat_align',
        dict(type=_T + 'FeatureAlignLoss', loss_weight=1.0),
        s_steps + [
            dict(type=_T + 'ProjectionHead', in_channels=s_ch,
                 out_channels=t_ch, hidden_channels=max(s_ch, t_ch),
                 norm=False)
        ], t_steps)


def _map_steps(x, role):
    steps = _token_steps(x)
    if steps is None:
        raise ValueError(f'the {role} output {tuple(x.shape)} is not a map '
                         '(B, C, H, W) or square-gridded tokens')
    return steps


def propose_msdcrd(s, t):
    s_steps, s_ch, s_hw = _map_steps(s, 'student')
    t_steps, t_ch, t_hw = _map_steps(t, 'teacher')
    side = min(s_hw + t_hw)
    scales = tuple(k for k in (1, 2, 4) if k <= side)
    if s_ch != t_ch:
        s_steps = s_steps + [
            dict(type=_T + 'ChannelAligner', in_channels=s_ch,
                 out_channels=t_ch)
        ]
    return _wiring(
        'feat', 'msdcrd',
        dict(type=_T + 'MSDCRDLoss', scales=scales, temperature=0.1,
             loss_weight=1.0), s_steps, t_steps)


def propose_lfcc(s, t):
    s_steps, s_ch, _ = _map_steps(s, 'student')
    t_steps, t_ch, _ = _map_steps(t, 'teacher')
    width = 256
    return _wiring(
        'feat', 'lfcc',
        dict(type=_T + 'LFCCLoss', temperature=0.1, symmetric=True,
             loss_weight=1.0), s_steps + [
                 dict(type=_T + 'LearnableLowPassFilter', in_channels=s_ch,
                      kernel_sizes=(2, 4), per_channel=True),
                 dict(type=_T + 'CompactProjector', in_channels=s_ch,
                      out_channels=width, grid=2)
             ], t_steps + [
                 dict(type=_T + 'LowPassFilter', kernel_sizes=(2, 4)),
                 dict(type=_T + 'CompactProjector', in_channels=t_ch,
                      out_channels=width, grid=2)
             ], ('s_emb', 't_emb'))


#: Method name to its proposer, in the order they are offered.
PROPOSERS = dict(
    KD=propose_kd,
    CRD=propose_crd,
    FeatureAlign=propose_feature_align,
    MSDCRD=propose_msdcrd,
    LFCC=propose_lfcc)


def _run(fragment, s, t):
    """Build the fragment's connectors and loss and run them on ``s``, ``t``.

    Returns:
        tuple: The loss value's shape and the shape each loss argument had.
    """
    connectors = {
        name: build_in_scope(cfg).eval()
        for name, cfg in fragment.get('connectors', {}).items()
    }
    (loss_name, loss_cfg), = fragment['distill_losses'].items()
    loss_cfg = dict(loss_cfg)
    if loss_cfg['type'] == _T + 'CRDLoss':
        # A bank just big enough for the check.
        loss_cfg.update(num_samples=s.shape[0] + 8, num_negatives=4)
    loss = build_in_scope(loss_cfg).eval()
    values = dict(student=s, teacher=t)
    kwargs = {}
    for arg, src in fragment['loss_inputs'][loss_name].items():
        if src == 'data.sample_idx':
            kwargs[arg] = torch.arange(s.shape[0])
            continue
        if isinstance(src, str):
            src = dict(tap=src, connector=None)
        value = values[src['tap'].split('.')[0]]
        if src['connector'] is not None:
            value = connectors[src['connector']](value)
        kwargs[arg] = value
    with torch.no_grad():
        out = loss(**kwargs)
    if not (isinstance(out, torch.Tensor) and out.dim() == 0
            and torch.isfinite(out)):
        raise ValueError(f'the loss gave {shape_of(out)}, not a finite '
                         'scalar')
    return {arg: shape_of(v) for arg, v in kwargs.items()}


def advise_pair(s, t):
    """Try every method on a student output ``s`` and a teacher output ``t``.

    Args:
        s (Tensor): The student tap's output.
        t (Tensor): The teacher tap's output.

    Returns:
        list[dict]: Per method, ``dict(method, ok, fragment, reason,
        inputs)``: ``fragment`` the ``model`` settings to add (taps left
        out) when ``ok``, else ``reason``.
    """
    results = []
    for method, propose in PROPOSERS.items():
        entry = dict(method=method, ok=False, fragment=None, reason=None)
        try:
            fragment = propose(s, t)
            entry['inputs'] = _run(fragment, s, t)
            entry.update(ok=True, fragment=fragment)
        except Exception as err:  # any failure: this method does not fit
            entry['reason'] = str(err).splitlines()[0] if str(err) else \
                type(err).__name__
        results.append(entry)
    return results


def format_fragment(value, indent=0, width=79, lead=0):
    """Config text of ``value`` (dicts as ``dict(k=v)``, keys in order):
    one line where it fits in ``width`` after ``indent`` + ``lead``
    columns, else one item per line, indented four more."""
    flat = _flat(value)
    fits = len(flat) + indent + lead + 1 <= width
    if fits or not isinstance(value, (dict, list, tuple)):
        return flat
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        items = [
            f'{pad}{k}=' + format_fragment(v, indent + 4, width, len(k) + 1)
            for k, v in value.items()
        ]
        opening, closing = 'dict(', ')'
    else:
        items = [pad + format_fragment(v, indent + 4, width) for v in value]
        opening, closing = ('[', ']') if isinstance(value, list) else ('(',
                                                                       ')')
    return opening + '\n' + ',\n'.join(items) + closing


def _flat(value):
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_flat(v)}'
                                   for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(_flat(v) for v in value) + ']'
    if isinstance(value, tuple):
        inner = ', '.join(_flat(v) for v in value)
        return f'({inner},)' if len(value) == 1 else f'({inner})'
    return repr(value)
