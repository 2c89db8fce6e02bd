"""Print (and save or compare) a distiller's losses on its first batches.

A refactoring check: the same config, seed and batches must give the same
losses before and after a change of the code. The model is built from the
config with its teacher checkpoint dropped (the teacher keeps its seeded
initial weights), fed the first ``--iters`` batches of its training
dataloader in ``loss`` mode at epoch 1 (no optimizer step; a memory bank still
updates), and every loss is printed.

Example::

    python tools/analysis_tools/first_iteration_losses.py \\
        configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py \\
        --out before.json
    # ... change the code ...
    python tools/analysis_tools/first_iteration_losses.py \\
        configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py \\
        --compare before.json

``--channels-last`` and ``--compile`` run the same batches with the
distiller in the channels-last memory format and / or its forward compiled
by ``torch.compile``; compared with an eager NCHW ``--out`` file they show
that the faster modes compute the same losses (``--rtol 1e-4``).

Random draws inside a compiled graph (CRD's negatives) come from
inductor's own generator by default, a different stream than eager's under
the same seed. ``--compile`` therefore sets inductor's ``fallback_random``
so that the draws follow torch's generator, as in eager, and the
comparison checks the arithmetic; ``--inductor-rng`` keeps inductor's
generator (what ``compile=True`` trains with).
"""
import argparse
import json
import math
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, set_random_seed

import mmkd_contrast  # noqa: F401  registers modules
from mmkd_contrast.registry import MODELS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print a distiller's losses on its first training "
        'batches (seeded, teacher checkpoint dropped).')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--iters', type=int, default=2, help='batches per config')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--out', help='save the losses of every config to this JSON file')
    parser.add_argument(
        '--compare',
        help='a JSON file written by --out; exit 1 if any loss differs')
    parser.add_argument(
        '--rtol',
        type=float,
        default=1e-5,
        help='relative tolerance of --compare')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='build the distiller with channels_last=True')
    parser.add_argument(
        '--compile',
        nargs='?',
        const='inductor',
        metavar='BACKEND',
        help='run the forward compiled by torch.compile (backend inductor '
        'unless given)')
    parser.add_argument(
        '--inductor-rng',
        action='store_true',
        help='with --compile (inductor): draw random numbers in the graph '
        "with inductor's generator, as compile=True does, instead of "
        "torch's (fallback_random); draws then differ from eager's")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of every config')
    return parser.parse_args()


def first_losses(config, iters, seed, cfg_options=None, channels_last=False,
                 compile_backend=None, inductor_rng=False):
    """The losses of ``config``'s first ``iters`` training batches.

    Args:
        config (str): The config file.
        iters (int): Batches to run.
        seed (int): Random seed of the model and the batches.
        cfg_options (dict, optional): Settings to override.
        channels_last (bool): Build the distiller with
            ``channels_last=True``.
        compile_backend (str, optional): Run the forward compiled by
            ``torch.compile`` with this backend.
        inductor_rng (bool): With the inductor backend, keep inductor's
            random-number generator; by default random ops in the graph
            use torch's (``fallback_random``), so that they draw what an
            eager run draws.

    Returns:
        list[dict]: One ``{loss name: float}`` per batch.
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.model.pop('teacher_ckpt', None)
    if channels_last:
        if 'teacher' not in cfg.model:
            raise ValueError(f'{config}: --channels-last needs a distiller '
                             f'config, got model type {cfg.model.get("type")}')
        cfg.model.channels_last = True
    if cfg.get('data_preprocessor') is not None:
        # As mmengine's Runner does.
        cfg.model.setdefault('data_preprocessor', cfg.data_preprocessor)
    set_random_seed(seed, deterministic=True)
    scope = cfg.get('default_scope', 'mmkd_contrast')
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
        loader_cfg = dict(cfg.train_dataloader)
        loader_cfg['num_workers'] = 0
        loader_cfg['persistent_workers'] = False
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
    model.train()
    # What DistillEpochHook tells the model in epoch 1 (PCKD's preview
    # weights follow the epoch).
    if callable(getattr(model, 'set_epoch', None)):
        model.set_epoch(1, cfg.get('train_cfg', {}).get('max_epochs'))
    forward = model.forward
    if compile_backend is not None:
        torch._dynamo.reset()
        options = None
        if compile_backend == 'inductor' and not inductor_rng:
            options = dict(fallback_random=True)
        forward = torch.compile(
            model.forward, backend=compile_backend, options=options)
    results = []
    for step, batch in enumerate(loader):
        if step == iters:
            break
        data = model.data_preprocessor(batch, training=True)
        with torch.no_grad():
            losses = forward(**data, mode='loss')
        results.append({
            name: float(value.detach().float().mean())
            for name, value in sorted(losses.items())
        })
    return results


def differences(before, after, rtol):
    """Lines naming every loss that differs between two runs."""
    lines = []
    for config in sorted(set(before) | set(after)):
        old, new = before.get(config), after.get(config)
        if old is None or new is None:
            lines.append(f'{config}: only in '
                         f'{"the new run" if old is None else "the old run"}')
            continue
        for step, (old_step, new_step) in enumerate(zip(old, new)):
            for name in sorted(set(old_step) | set(new_step)):
                a, b = old_step.get(name), new_step.get(name)
                if a is None or b is None or not math.isclose(
                        a, b, rel_tol=rtol, abs_tol=1e-7):
                    lines.append(f'{config} batch {step} {name}: '
                                 f'{a!r} -> {b!r}')
    return lines


def main() -> None:
    args = parse_args()
    results = {}
    for config in args.configs:
        results[config] = first_losses(config, args.iters, args.seed,
                                       args.cfg_options, args.channels_last,
                                       args.compile, args.inductor_rng)
        for step, losses in enumerate(results[config]):
            shown = ', '.join(f'{k}={v:.7g}' for k, v in losses.items())
            print(f'{config} batch {step}: {shown}', flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    if args.compare:
        with open(args.compare) as f:
            before = json.load(f)
        before = {k: v for k, v in before.items() if k in results}
        lines = differences(before, results, args.rtol)
        for line in lines:
            print('DIFFERS:', line)
        print(f'compared {len(results)} configs with {args.compare}: '
              f'{len(lines)} losses differ (rtol={args.rtol})')
        if lines:
            sys.exit(1)


if __name__ == '__main__':
    main()
