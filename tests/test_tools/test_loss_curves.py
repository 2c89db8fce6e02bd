"""The plugin's json logs read by mmpretrain's own
tools/analysis_tools/analyze_logs.py (shipped inside the mmpretrain
package): distillation terms plotted over iterations, and the teacher
agreement logged at validation."""
import glob
import os.path as osp
import subprocess
import sys

import mmpretrain
from tool_helpers import QUICKSTART, last_scalars, train

ANALYZE_LOGS = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                        'analysis_tools', 'analyze_logs.py')
KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def test_analyze_logs_plots_the_distill_terms(tmp_path,
                                              quickstart_teacher_ckpt):
    assert osp.isfile(ANALYZE_LOGS), 'mmpretrain ships its tools in .mim'
    config = tmp_path / 'kd_with_agreement.py'
    config.write_text(
        f'_base_ = [{KD!r}]\n'
        "val_evaluator = [dict(type='Accuracy', topk=(1, )),\n"
        "                 dict(type='mmkd_contrast.TeacherAgreement')]\n")
    work = tmp_path / 'work'
    train(str(config), work, f'model.teacher_ckpt={quickstart_teacher_ckpt}',
          'default_hooks.logger.interval=1')
    records = last_scalars(work)
    steps = [r for r in records if 'lr' in r]  # what analyze_logs calls train
    assert len(steps) == 4 and 'distill.loss_kd' in steps[0]
    val = [r for r in records if 'accuracy/top1' in r]
    assert 0 <= val[-1]['teacher_agreement/top1'] <= 100
    assert val[-1]['teacher_agreement/kl'] >= 0

    log, = glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))
    png = tmp_path / 'terms.png'
    proc = subprocess.run(
        [sys.executable, ANALYZE_LOGS, 'plot_curve', log, '--keys',
         'distill.loss_kd', 'student.loss', '--out', str(png)],
        capture_output=True, text=True, timeout=120,
        env={'MPLBACKEND': 'Agg', 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert png.read_bytes()[:4] == b'\x89PNG' and png.stat().st_size > 5000
    proc = subprocess.run(
        [sys.executable, ANALYZE_LOGS, 'plot_curve', log, '--keys',
         'teacher_agreement/top1', '--out', str(tmp_path / 'agree.png')],
        capture_output=True, text=True, timeout=120,
        env={'MPLBACKEND': 'Agg', 'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 0, proc.stderr[-3000:]
