"""Convert a published CIFAR-10 ResNet-20/32/44/56 ("option A" shortcuts)
into a checkpoint of this project's ``CIFARResNet(shortcut='zero_pad')``
classifier.

    python tools/model_converters/cifar10_resnet_to_mmkd.py \\
        SRC.th DST.pth [--check-sha256]

The source is the format of the widely used CIFAR-10 ResNets of He et al.
(a dict whose ``state_dict`` holds ``module.``-prefixed keys ``conv1``,
``bn1``, ``layer{1,2,3}.{i}.{conv1,bn1,conv2,bn2}``, ``linear``). It is
loaded with ``torch.load(weights_only=True, map_location='cpu')`` (its
tensors were saved on a GPU). The depth is read from the number of blocks;
every key and shape must be exactly those of that depth, or the file is
refused with the first offending key named. The result holds
``backbone.*`` and ``head.fc.*`` (plus BatchNorm's ``num_batches_tracked``,
which the source lacks) and loads strictly into the configs in
``configs/teachers/`` named ``*_cifar10-pre_*``. ``DST`` is never
overwritten. ``--check-sha256`` compares the file's sha256 with the 8 hex
digits that end its name (``resnet20-12fca82f.th``).
"""
import argparse
import hashlib
import os
import os.path as osp
import re
import sys
import tempfile
from typing import List, Optional

import torch

ARCHS = {3: 'resnet20', 5: 'resnet32', 7: 'resnet44', 9: 'resnet56'}
WIDTHS = (16, 32, 64)
BN_ENTRIES = ('weight', 'bias', 'running_mean', 'running_var')


def sha256_of(path):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256_prefix(path):
    """Compare the file's sha256 with the prefix at the end of its name.

    Raises:
        ValueError: The name has no ``-<8 hex digits>`` suffix, or the sum
            differs (both are given).
    """
    match = re.search(r'-([0-9a-f]{8,})\.[^.]+$', osp.basename(path))
    if match is None:
        raise ValueError(
            f'{path}: --check-sha256 needs a file name ending in '
            '-<sha256 prefix>.<ext>, e.g. resnet20-12fca82f.th')
    digest = sha256_of(path)
    if not digest.startswith(match.group(1)):
        raise ValueError(
            f'{path}: sha256 {digest} does not start with the prefix '
            f'{match.group(1)} of its name; the file is damaged or not the '
            'published one')
    return digest


def expected_layout(blocks, num_classes):
    """Source key -> shape of the published layout with ``blocks`` blocks
    per stage (keys without the ``module.`` prefix)."""
    layout = {'conv1.weight': (16, 3, 3, 3)}
    layout.update({f'bn1.{e}': (16, ) for e in BN_ENTRIES})
    in_channels = 16
    for stage, width in enumerate(WIDTHS):
        for index in range(blocks):
            name = f'layer{stage + 1}.{index}'
            layout[f'{name}.conv1.weight'] = (width, in_channels, 3, 3)
            layout[f'{name}.conv2.weight'] = (width, width, 3, 3)
            for bn in ('bn1', 'bn2'):
                layout.update({f'{name}.{bn}.{e}': (width, )
                               for e in BN_ENTRIES})
            in_channels = width
    layout['linear.weight'] = (num_classes, WIDTHS[-1])
    layout['linear.bias'] = (num_classes, )
    return layout


def source_state_dict(path):
    """The published file's weights, keys without ``module.``."""
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(ckpt, dict) or not isinstance(
            ckpt.get('state_dict'), dict):
        raise ValueError(
            f'{path}: expected a dict with a "state_dict" dict (the '
            'published CIFAR-10 ResNet format), got '
            f'{type(ckpt).__name__} with keys {list(ckpt)[:5]}'
            if isinstance(ckpt, dict) else
            f'{path}: expected a dict, got {type(ckpt).__name__}')
    state = ckpt['state_dict']
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}, ckpt.get('best_prec1')


def check_layout(state, path):
    """Infer the depth and check every key and shape.

    Returns:
        tuple[str, int, int]: arch name, blocks per stage, classes.

    Raises:
        KeyError: A key is missing or unexpected (named).
        ValueError: Unknown depth, or a shape differs (key and both shapes).
    """
    blocks = len({k.split('.')[1] for k in state
                  if k.startswith('layer1.')})
    if blocks not in ARCHS:
        raise ValueError(
            f'{path}: {blocks} blocks in layer1; the published depths have '
            f'{sorted(ARCHS)} ({", ".join(ARCHS.values())})')
    linear = state.get('linear.weight')
    if linear is None:
        raise KeyError(f'{path}: missing key "linear.weight"')
    layout = expected_layout(blocks, linear.shape[0])
    for key, shape in layout.items():
        if key not in state:
            raise KeyError(f'{path}: missing key "{key}" (expected shape '
                           f'{shape} for {ARCHS[blocks]})')
        if tuple(state[key].shape) != shape:
            raise ValueError(
                f'{path}: key "{key}" has shape {tuple(state[key].shape)}, '
                f'expected {shape} for {ARCHS[blocks]}')
    unexpected = sorted(set(state) - set(layout))
    if unexpected:
        raise KeyError(f'{path}: unexpected key "{unexpected[0]}" '
                       f'({len(unexpected)} in all) for {ARCHS[blocks]}')
    return ARCHS[blocks], blocks, linear.shape[0]


def to_project_keys(state):
    """``backbone.*`` / ``head.fc.*`` keys, with ``num_batches_tracked``."""
    out = {}
    for key, value in state.items():
        if key.startswith('linear.'):
            out['head.fc.' + key[len('linear.'):]] = value.float().clone()
            continue
        out['backbone.' + key] = value.float().clone()
        if key.endswith('.running_var'):
            prefix = key[:-len('running_var')]
            out['backbone.' + prefix + 'num_batches_tracked'] = torch.tensor(
                0, dtype=torch.long)
    return out


def save_new(obj, dst):
    """Save ``obj`` to ``dst``, which must not exist yet (never replaced,
    never seen half written)."""
    directory = osp.dirname(osp.abspath(dst))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.tmp', dir=directory)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.link(tmp, dst)  # fails if dst exists, even after a race
    except FileExistsError:
        raise FileExistsError(f'{dst} exists; refusing to overwrite it')
    finally:
        os.unlink(tmp)


def convert(src, dst, check_sha256=False):
    """Convert ``src`` to ``dst``; returns the ``meta`` written.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        FileExistsError: ``dst`` exists.
        KeyError / ValueError: ``src`` is not the published layout.
    """
    if not osp.isfile(src):
        raise FileNotFoundError(f'source checkpoint not found: {src}')
    if osp.exists(dst):
        raise FileExistsError(f'{dst} exists; refusing to overwrite it')
    digest = check_sha256_prefix(src) if check_sha256 else sha256_of(src)
    state, best_prec1 = source_state_dict(src)
    arch, _, num_classes = check_layout(state, src)
    meta = dict(
        converted_from=osp.basename(src), source_sha256=digest, arch=arch,
        shortcut='zero_pad', num_classes=int(num_classes),
        source_best_prec1=(None if best_prec1 is None else
                           float(best_prec1)))
    save_new(dict(state_dict=to_project_keys(state), meta=meta), dst)
    return meta


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0].replace('\n', ' '),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('src', help='published checkpoint, e.g. '
                        'resnet56-4bfd9763.th')
    parser.add_argument('dst', help='output checkpoint (must not exist)')
    parser.add_argument(
        '--check-sha256', action='store_true',
        help='check the sha256 against the prefix in the source file name')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        meta = convert(args.src, args.dst, args.check_sha256)
    except (OSError, KeyError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'{args.src} ({meta["arch"]}, sha256 {meta["source_sha256"]}) '
          f'-> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
