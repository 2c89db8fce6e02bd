"""Evaluate a checkpoint (student, teacher or distiller) on the test set."""
import argparse
import json
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmkd_contrast  # noqa: F401  registers modules and safe globals
from mmkd_contrast.engine import add_safety_hooks, teacher_from_checkpoint
from mmkd_contrast.type_names import suggest_type_names
from mmkd_contrast.utils import setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(
        description='Test a checkpoint with an mmkd_contrast config.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs; defaults to ./work_dirs/<config name>')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='evaluate even if only some checkpoint keys fit the model '
        '(logged); by default missing, unexpected or mis-shaped keys are an '
        'error')
    parser.add_argument(
        '--metrics-out', help='also write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    # The teacher's weights are in the distillation checkpoint; its
    # original file is not needed (and may be gone).
    teacher_from_checkpoint(cfg, args.checkpoint)
    add_safety_hooks(cfg, allow_partial_load=args.allow_partial_load)
    if args.launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg)
    with suggest_type_names():
        runner = Runner.from_cfg(cfg)
        metrics = runner.test()
    if args.metrics_out and runner.rank == 0:
        with open(args.metrics_out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
