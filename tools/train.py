"""Train a model (teacher, student or distiller) from an mmengine config."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.runner import Runner

import mmkd_contrast  # noqa: F401  registers modules and safe globals
from mmkd_contrast.engine import (add_safety_hooks, explain_missing_data,
                                  find_resume_checkpoint,
                                  teacher_from_checkpoint)
from mmkd_contrast.type_names import suggest_type_names
from mmkd_contrast.utils import DEBUG_CHECKS_ENV, setup_cpu_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a classifier or distil a student with '
        'mmkd_contrast.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and checkpoints; defaults to '
        './work_dirs/<config name>')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume training: with no value (or "auto") from the latest '
        'checkpoint in the work dir, or from the given checkpoint file')
    parser.add_argument(
        '--allow-partial-load',
        action='store_true',
        help='let load_from load only the checkpoint keys that fit the '
        'model (logged); by default missing, unexpected or mis-shaped keys '
        'are an error')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: fp16 with dynamic loss scaling on '
        'a GPU, bf16 autocast on a CPU')
    parser.add_argument(
        '--random-teacher',
        action='store_true',
        help='distil from a teacher without trained weights (smoke tests '
        'only; sets model.allow_random_teacher=True). Without it a '
        'distiller whose teacher got no weights (teacher_ckpt, a Pretrained '
        'init_cfg, or a checkpoint resumed from) stops before training')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help="keep a distiller's 4-D weights and inputs in the channels-last "
        'memory format (sets model.channels_last=True)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='compile the training step with torch.compile (sets '
        "mmengine's compile=True unless the config's compile is already a "
        'dict of settings); the first steps compile and are slow')
    parser.add_argument(
        '--debug-checks',
        action='store_true',
        help='run the checks that read tensor values (label ranges, '
        'finite inputs) at every step instead of only the first; each one '
        'makes the host wait for the GPU (sets MMKD_CONTRAST_DEBUG_CHECKS=1)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in every dataloader')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in every dataloader')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, key=value pairs such as '
        'model.teacher_ckpt=teacher.pth train_cfg.max_epochs=2; '
        'lists as key="[a,b]", nested lists/tuples as key="[(a,b),(c,d)]" '
        '(quotes needed, no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch>=2.0) or
    # --local_rank (older); accept both.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_amp(cfg, cuda=None):
    """Make the config's optimizer wrapper a mixed-precision one: fp16
    with dynamic loss scaling (mmengine ``AmpOptimWrapper``) on a GPU,
    bf16 autocast without scaling (``AutocastOptimWrapper``) on a CPU."""
    if cuda is None:
        cuda = torch.cuda.is_available()
    wrapper = cfg.optim_wrapper
    plain = ('OptimWrapper', 'mmengine.OptimWrapper')
    if wrapper.get('type', 'OptimWrapper') not in plain:
        raise SystemExit(
            f"--amp replaces the optimizer wrapper 'OptimWrapper', but this "
            f"config uses {wrapper.get('type')!r}; set the mixed-precision "
            'wrapper in the config instead')
    if cuda:
        wrapper.type = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
    else:
        wrapper.type = 'mmkd_contrast.AutocastOptimWrapper'
        wrapper.dtype = 'bfloat16'
        wrapper.device_type = 'cpu'


def merge_args(cfg, args):
    """Merge the command-line arguments into the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        set_amp(cfg)
    if args.random_teacher:
        if not isinstance(cfg.get('model'), dict) or \
                'teacher' not in cfg.model:
            raise SystemExit('--random-teacher: the model of this config is '
                             'not a distiller (model.teacher is missing)')
        cfg.model.allow_random_teacher = True
    if args.channels_last:
        if 'teacher' not in cfg.model:
            raise SystemExit(
                '--channels-last is an option of the distillers '
                f"(model.channels_last); this config's model is "
                f'{cfg.model.get("type")!r}, not a distiller')
        cfg.model.channels_last = True
    if args.compile and not isinstance(cfg.get('compile'), dict):
        # A compile dict (backend, options) from the config or
        # --cfg-options already turns compiling on: keep its settings.
        cfg.compile = True
    if args.debug_checks:
        # Also seen by the processes a launcher starts from this one.
        os.environ[DEBUG_CHECKS_ENV] = '1'

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume: checkpoint not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(
            cfg.get('auto_scale_lr', {}), enable=True)

    def set_loader(key, flag, value):
        loader = cfg.get(key, None)
        if isinstance(loader, (dict, ConfigDict)):
            loader[flag] = value

    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if args.no_pin_memory:
            set_loader(key, 'pin_memory', False)
        if args.no_persistent_workers:
            set_loader(key, 'persistent_workers', False)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key, None)
        if isinstance(loader, (dict, ConfigDict)) and \
                loader.get('num_workers', 0) == 0:
            # persistent_workers needs workers.
            loader['persistent_workers'] = False

    if args.launcher != 'none' and not torch.cuda.is_available():
        # mmengine's launcher would call torch.cuda.set_device and wrap the
        # model with device_ids=[LOCAL_RANK]; neither works on a CPU.
        setup_cpu_distributed(cfg)
    return cfg


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    add_safety_hooks(cfg, allow_partial_load=args.allow_partial_load)
    resume_log = []
    if args.resume == 'auto':
        # Instead of mmengine's lookup, which fails on an empty or dangling
        # last_checkpoint and does not say when there is nothing to resume.
        cfg.load_from, resume_log = find_resume_checkpoint(cfg.work_dir)
        cfg.resume = cfg.load_from is not None
    if cfg.get('load_from'):
        # A distillation checkpoint carries its teacher: resuming from it
        # must not need the teacher's original file.
        teacher_from_checkpoint(cfg, cfg.load_from)
    # A misspelled type anywhere (model, dataset, hook) names the closest
    # registered ones instead of mmengine's bare KeyError; a dataset
    # without its data names the folder it expected.
    with suggest_type_names(), explain_missing_data(
            cfg, ('train_dataloader', 'val_dataloader')):
        if 'runner_type' not in cfg:
            runner = Runner.from_cfg(cfg)
        else:
            from mmkd_contrast.registry import RUNNERS
            runner = RUNNERS.build(cfg)
        for level, message in resume_log:
            getattr(runner.logger, level)(message)
        runner.train()


if __name__ == '__main__':
    main()
