"""Evaluate a checkpoint (student, teacher or distiller) on the test set."""
import argparse
import copy
import json
import os
import os.path as osp

import torch
import mmengine
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

import mmkd_contrast  # noqa: F401  registers modules and safe globals
from mmkd_contrast.engine import (add_safety_hooks, explain_missing_data,
                                  teacher_from_checkpoint)
from mmkd_contrast.type_names import suggest_type_names
from mmkd_contrast.utils import setup_cpu_distributed


def parse_args() -> argparse.Namespace:
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
        '--out',
        help='write the predictions (default) or the metrics (--out-item '
        'metrics) to this file (.pkl, .json, ... as mmengine.dump writes '
        'it)')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help="what --out holds; defaults to 'pred'")
    parser.add_argument(
        '--show-dir',
        help='save images drawn with their predictions to this directory')
    parser.add_argument(
        '--show',
        action='store_true',
        help='show the images with their predictions in a window')
    parser.add_argument(
        '--interval', type=int, default=1,
        help='draw every INTERVAL-th sample (with --show / --show-dir)')
    parser.add_argument(
        '--wait-time', type=float, default=2,
        help='seconds each window stays open (with --show)')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_model and '
        'tta_pipeline, or by default the average class score of the image '
        'and its horizontal flip')
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


def set_visualization(cfg, args):
    """Turn the visualization hook on for --show / --show-dir."""
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        raise SystemExit(
            '--show/--show-dir: the config has no '
            "default_hooks.visualization; add dict(type='VisualizationHook')"
            ' and a visualizer')
    vis = hooks['visualization']
    vis.update(enable=True, show=args.show, wait_time=args.wait_time,
               out_dir=args.show_dir, interval=args.interval)


def set_tta(cfg):
    """Wrap the model for test-time augmentation: the config's tta_model
    and tta_pipeline, or the average score of the image and its flip."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[dict(type='RandomFlip', prob=1.),
                         dict(type='RandomFlip', prob=0.)], [pipeline[-1]]])
        cfg.tta_pipeline = pipeline
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint not found: {args.checkpoint}')
    if args.out_item is not None and args.out is None:
        raise SystemExit('--out-item needs --out (the file to write)')
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
    if args.show or args.show_dir:
        set_visualization(cfg, args)
    if args.tta:
        set_tta(cfg)
    add_safety_hooks(cfg, allow_partial_load=args.allow_partial_load)
    if args.launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg)
    with suggest_type_names(), explain_missing_data(cfg,
                                                    ('test_dataloader', )):
        runner = Runner.from_cfg(cfg)
        if args.out and args.out_item in ('pred', None):
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))
        metrics = runner.test()
    if args.out and args.out_item == 'metrics' and runner.rank == 0:
        mmengine.dump(metrics, args.out)
    if args.metrics_out and runner.rank == 0:
        with open(args.metrics_out, 'w') as f:
            json.dump(metrics, f, indent=2)


if __name__ == '__main__':
    main()
