"""List where a distiller config can tap, and what can join two taps.

Builds the student and the teacher of a distiller config (``model.student``
and ``model.teacher``; no checkpoint needed), runs one dummy batch of the
config's input size through each in ``tensor`` mode and prints every module
path with its output shape. With ``--pair`` it tries the plugin's
connectors and losses on one student and one teacher output and prints the
config fragment of each method that accepts them.

A module is listed when it runs through its ``__call__`` (forward hooks);
one that its parent calls as ``module.forward(x)`` (mmseg's
``EncoderDecoder`` does so for ``decode_head``) is not, but its children
are.

Example::

    python tools/analysis_tools/list_taps.py \\
        configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py \\
        --depth 2
    python tools/analysis_tools/list_taps.py \\
        configs/quickstart/lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py \\
        --pair backbone.layer4 backbone.layers.3
"""
import argparse
import sys
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction

import mmkd_contrast  # noqa: F401  registers modules
from mmkd_contrast.analysis import (TapToolError, advise_pair,
                                    build_network, describe,
                                    format_fragment, in_channels_of,
                                    input_size_of, parse_tap, record_outputs,
                                    select, tap_output)
from mmkd_contrast.engine.checkpoint_loading import (load_checkpoint_file,
                                                     state_dict_of)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print the module paths of a distiller config\'s student '
        'and teacher with their output shapes on one dummy batch; with '
        '--pair, which connectors and losses can join two of them.')
    parser.add_argument('config', help='distiller config file')
    parser.add_argument(
        '--depth', type=int, help='list paths at most this many levels deep')
    parser.add_argument(
        '--grep', help='list only paths matching this regular expression')
    parser.add_argument(
        '--only', choices=['student', 'teacher'], help='list one network')
    parser.add_argument(
        '--pair',
        nargs=2,
        metavar=('S_PATH', 'T_PATH'),
        help='a student and a teacher path (path[i] picks element i of a '
        'tuple output): print the methods that can join them and the '
        'config fragment of each')
    parser.add_argument(
        '--input-size',
        nargs=2,
        type=int,
        metavar=('H', 'W'),
        help='image size of the dummy batch (default: from the config)')
    parser.add_argument(
        '--teacher-ckpt',
        help='load these teacher weights first (shapes do not depend on '
        'them; the config\'s model.teacher_ckpt is not loaded)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def load_teacher(teacher, filename):
    try:
        state = state_dict_of(
            load_checkpoint_file(filename, map_location='cpu'), filename)
        teacher.load_state_dict(
            {k.removeprefix('module.'): v
             for k, v in state.items()}, strict=True)
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        raise TapToolError(f'--teacher-ckpt {filename}: '
                           f'{str(err).splitlines()[0]}') from err


def print_listing(role, model, records, depth, pattern, used):
    shown = select(records, depth, pattern)
    print(f'== {role} ({type(model).__name__}): {len(shown)} of '
          f'{len(records)} modules that ran')
    width = max([len(p) for p in shown] + [4])
    for path, rec in shown.items():
        calls = f"  (x{rec['calls']}, last call)" if rec['calls'] > 1 else ''
        mark = f'  <- {role}_taps.{used[path]}' if path in used else ''
        print(f"  {path:<{width}}  {rec['type']:<24} "
              f"{describe(rec['output'])}{calls}{mark}")


def taps_in_use(cfg, role):
    taps = (cfg.model.get(f'{role}_taps') or {})
    used = {}
    for name, spec in taps.items():
        path = spec['path'] if isinstance(spec, dict) else spec
        index = spec.get('index') if isinstance(spec, dict) else None
        text = name if index is None else f'{name} (element {index})'
        used[path] = f'{used[path]}, {text}' if path in used else text
    return used


def tap_spec(text):
    path, index = parse_tap(text)
    return path if index is None else dict(path=path, index=index)


def print_pair(nets, records, s_text, t_text):
    s = tap_output(records['student'], nets['student'], 'student', s_text)
    t = tap_output(records['teacher'], nets['teacher'], 'teacher', t_text)
    print(f'== pair: student {s_text} {tuple(s.shape)} <-> teacher '
          f'{t_text} {tuple(t.shape)}')
    results = advise_pair(s, t)
    for res in results:
        verdict = 'fits' if res['ok'] else f"no: {res['reason']}"
        print(f"  {res['method']:<13} {verdict}")
    fitting = [res for res in results if res['ok']]
    if not fitting:
        raise TapToolError(
            f'--pair: no connector/loss of the plugin joins student '
            f'{s_text} {tuple(s.shape)} and teacher {t_text} '
            f'{tuple(t.shape)}: ' + '; '.join(
                f"{r['method']}: {r['reason']}" for r in results))
    for res in fitting:
        tap_name = 'logits' if res['method'] == 'KD' else 'feat'
        fragment = dict(
            student_taps={tap_name: tap_spec(s_text)},
            teacher_taps={tap_name: tap_spec(t_text)},
            **res['fragment'])
        text = 'model = ' + format_fragment(fragment, lead=len('model = '))
        print(f"\n# --- {res['method']}: merge into the config's model "
              '(inputs as the loss sees them: '
              + ', '.join(f'{k} {v}' for k, v in res['inputs'].items()) +
              ')')
        if res['method'] == 'CRD':
            print('# set num_samples to the training set size; CRD needs '
                  'data.sample_idx (mmpretrain datasets provide it)')
        print(text.rstrip())


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        cfg = Config.fromfile(args.config)
    except Exception as err:  # a config that does not parse
        raise TapToolError(f'{args.config}: {err}') from err
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not isinstance(cfg.get('model'), dict):
        raise TapToolError(f'{args.config}: model is missing; list_taps '
                           'needs a distiller config (model.student and '
                           'model.teacher)')
    size = tuple(args.input_size) if args.input_size else input_size_of(cfg)
    nets, records = {}, {}
    torch.manual_seed(0)
    for role in ('student', 'teacher'):
        net = build_network(cfg, f'model.{role}')
        if role == 'teacher' and args.teacher_ckpt:
            load_teacher(net, args.teacher_ckpt)
        shape = (2, in_channels_of(cfg.model[role])) + size
        try:
            records[role] = record_outputs(net, torch.randn(shape))
        except Exception as err:  # the forward fails on this input
            raise TapToolError(
                f'model.{role} ({type(net).__name__}) fails on a dummy '
                f'batch {shape}: {type(err).__name__}: '
                f'{str(err).splitlines()[0]}; is --input-size right?'
            ) from err
        nets[role] = net
    print(f'dummy batch: {2} x {size[0]}x{size[1]} images')
    if args.pair:
        print_pair(nets, records, *args.pair)
        return
    for role in ('student', 'teacher'):
        if args.only in (None, role):
            print_listing(role, nets[role], records[role], args.depth,
                          args.grep, taps_in_use(cfg, role))


if __name__ == '__main__':
    try:
        main()
    except TapToolError as err:
        print(f'list_taps: error: {err}', file=sys.stderr)
        sys.exit(2)
