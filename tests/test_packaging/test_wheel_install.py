"""A built wheel, installed into a fresh virtual environment, ships the
configs, tools and model index where OpenMMLab's mim looks for them
(``mmkd_contrast/.mim``), and what ``mim train mmkd_contrast CONFIG`` runs
(``python <pkg>/.mim/tools/train.py <config>``) trains.

The environment reuses this one's installed dependencies through a
``.pth`` file (torch is not installed again); only the wheel goes in.
"""
import glob
import json
import os
import os.path as osp
import shutil
import site
import subprocess
import sys
import textwrap
import venv

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# What the source distribution holds: the wheel is built from a copy of
# these, so that the build does not write into the checkout.
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'mmkd_contrast', 'configs', 'tools')


def run(cmd, cwd, env=None, timeout=300):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, cmd))} failed ({proc.returncode}):\n'
        f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc.stdout


def build_wheel(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim',
                                    '*.egg-info')
    for item in SOURCES:
        path = osp.join(ROOT, item)
        if osp.isdir(path):
            shutil.copytree(path, src / item, ignore=ignore)
        else:
            shutil.copy(path, src / item)
    out = tmp_path / 'dist'
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '-w', str(out), str(src)],
        cwd=tmp_path)
    wheels = glob.glob(str(out / 'mmkd_contrast-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def fresh_venv(tmp_path):
    """A venv without pip whose ``.pth`` adds this environment's
    site-packages after its own (their ``.pth`` files, e.g. an editable
    install of this project, are not run)."""
    env_dir = tmp_path / 'venv'
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = str(env_dir / 'bin' / 'python')
    own = run([python, '-c', 'import sysconfig; '
               "print(sysconfig.get_paths()['purelib'])"], tmp_path).strip()
    with open(osp.join(own, 'shared_dependencies.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    return python, own


def test_wheel_in_a_fresh_venv_ships_the_mim_folder_and_trains(tmp_path):
    wheel = build_wheel(tmp_path)
    python, own_site = fresh_venv(tmp_path)
    run([sys.executable, '-m', 'pip', '--python', python, 'install',
         '--no-deps', '--no-index', wheel], cwd=tmp_path)

    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    work = tmp_path / 'elsewhere'
    work.mkdir()
    probe = textwrap.dedent("""
        import json, os.path as osp
        import mmkd_contrast
        from mmengine.config import Config
        from modelindex.load_model_index import load
        mim = osp.join(osp.dirname(mmkd_contrast.__file__), '.mim')
        cfg = Config.fromfile(osp.join(
            mim, 'configs', 'quickstart',
            'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py'))
        index = load(osp.join(mim, 'model-index.yml'))
        print(json.dumps(dict(
            package=mmkd_contrast.__file__, mim=mim,
            tools=sorted(f for f in ('train.py', 'test.py')
                         if osp.isfile(osp.join(mim, 'tools', f))),
            list_taps=osp.isfile(osp.join(
                mim, 'tools', 'analysis_tools', 'list_taps.py')),
            student=cfg.model.student.type,
            models=len(index.models),
            missing=[m.config for m in index.models
                     if not osp.isfile(osp.join(mim, m.config))],
            measured=sum(bool(m.results) for m in index.models))))
        """)
    found = json.loads(run([python, '-c', probe], work, env).splitlines()[-1])
    assert found['package'].startswith(own_site), found['package']
    assert found['tools'] == ['test.py', 'train.py'] and found['list_taps']
    assert found['student'] == 'ImageClassifier'  # _base_ resolved
    assert found['models'] >= 20 and found['missing'] == []
    assert found['measured'] >= 1

    # What `mim train mmkd_contrast student_resnet18-w4_1xb64_mnist5k.py`
    # runs: the packaged train.py on the packaged config.
    mim = found['mim']
    run([python, osp.join(mim, 'tools', 'train.py'),
         osp.join(mim, 'configs', 'quickstart',
                  'student_resnet18-w4_1xb64_mnist5k.py'),
         '--launcher', 'none', '--work-dir', str(work / 'run'),
         '--cfg-options', 'train_cfg.max_epochs=1',
         'train_dataloader.dataset.train_subset_per_class=5',
         'val_dataloader.dataset.indices=20'], work, env)
    assert glob.glob(str(work / 'run' / 'epoch_1.pth'))
