"""``import mmkd_contrast`` survives an installed mmdet that refuses the
installed mmcv (mmdet 3.3 asserts mmcv < 2.2.0 at import, and mmpretrain
imports it catching only ImportError)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_warns_instead_of_failing(tmp_path):
    fake = tmp_path / 'mmdet'
    fake.mkdir()
    (fake / '__init__.py').write_text(
        "raise AssertionError('MMCV==2.2.0 is used but incompatible. '\n"
        "                     'Please install mmcv>=2.0.0rc4, <2.2.0.')\n")
    code = ('import warnings\n'
            'warnings.simplefilter("always")\n'
            'import mmkd_contrast\n'
            'from mmkd_contrast.registry import MODELS\n'
            'print(MODELS.get("ImageClassifier").__name__)\n')
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(tmp_path), ROOT]))
    proc = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == 'ImageClassifier'
    assert 'mmdet is installed but does not import with mmcv' in proc.stderr
    assert 'MMCV==2.2.0 is used but incompatible' in proc.stderr
