"""Run the project's command-line tools from tests."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart')

# A small, fast slice of the embedded data for smoke runs: 20 training and
# 10 test images per class.
SMALL_DATA = [
    'train_dataloader.dataset.train_subset_per_class=20',
    'val_dataloader.dataset.indices=100',
    'test_dataloader.dataset.indices=100',
]


def run_tool(script, *args, env=None, check=True, timeout=600):
    """Run ``tools/<script>`` with this interpreter; return the process."""
    cmd = [sys.executable, osp.join(ROOT, 'tools', script), *args]
    full_env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run(
        cmd, cwd=ROOT, env=full_env, capture_output=True, text=True,
        timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(cmd)} failed ({proc.returncode}):\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    return proc


def train(config, work_dir, *cfg_options, epochs=1, extra_args=()):
    """Train ``config`` for ``epochs`` on the small slice of the data."""
    options = [f'train_cfg.max_epochs={epochs}', *SMALL_DATA, *cfg_options]
    return run_tool('train.py', config, '--work-dir', str(work_dir),
                    *extra_args, '--cfg-options', *options)


def last_scalars(work_dir):
    """Records of the newest run's ``scalars.json`` in ``work_dir``."""
    logs = sorted(glob.glob(osp.join(str(work_dir), '*', 'vis_data',
                                     'scalars.json')))
    assert logs, f'no scalars.json under {work_dir}'
    with open(logs[-1]) as f:
        return [json.loads(line) for line in f]
