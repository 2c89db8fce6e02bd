"""An exported student runs as it is in mmpretrain's test tool and
inferencer, and in this project's test tool."""
import json
import os
import os.path as osp
import subprocess
import sys

import mmpretrain
import numpy as np
from tool_helpers import QUICKSTART, ROOT, SMALL_DATA, run_tool, train

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
STUDENT = osp.join(QUICKSTART, 'student_resnet18-w4_1xb64_mnist5k.py')
MMPRETRAIN_TEST = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                           'test.py')


def test_exported_student_tests_and_infers(tmp_path,
                                           quickstart_teacher_ckpt):
    work = tmp_path / 'kd'
    train(KD, work, f'model.teacher_ckpt={quickstart_teacher_ckpt}')
    out = tmp_path / 'export' / 'student.pth'
    run_tool('export_student.py', KD, str(work / 'epoch_1.pth'), str(out))
    config = str(out.with_suffix('.py'))

    # This project's test tool.
    metrics = tmp_path / 'metrics.json'
    run_tool('test.py', config, str(out), '--work-dir',
             str(tmp_path / 'ours'), '--metrics-out', str(metrics),
             '--cfg-options', SMALL_DATA[2])
    ours = json.loads(metrics.read_text())['accuracy/top1']

    # The usual mmpretrain test flags: predictions to a file, test-time
    # augmentation (the image and its flip).
    preds = tmp_path / 'preds.pkl'
    run_tool('test.py', config, str(out), '--work-dir',
             str(tmp_path / 'tta'), '--out', str(preds), '--tta',
             '--cfg-options', SMALL_DATA[2])
    import mmengine
    dumped_preds = mmengine.load(str(preds))
    assert len(dumped_preds) == 100
    assert all(len(p['pred_score']) == 10 for p in dumped_preds)

    # mmpretrain's own test tool, as shipped in the mmpretrain package.
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    dumped = tmp_path / 'metrics.pkl'
    proc = subprocess.run(
        [sys.executable, MMPRETRAIN_TEST, config, str(out), '--work-dir',
         str(tmp_path / 'theirs'), '--out', str(dumped), '--out-item',
         'metrics', '--cfg-options', SMALL_DATA[2]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert mmengine.load(str(dumped))['accuracy/top1'] == ours

    # mmpretrain's inferencer, from the exported files alone.
    from mmpretrain import ImageClassificationInferencer
    inferencer = ImageClassificationInferencer(config, pretrained=str(out))
    image = np.random.RandomState(0).randint(0, 255, (28, 28), np.uint8)
    result = inferencer(image)[0]
    assert 0 <= result['pred_label'] < 10
    assert len(result['pred_scores']) == 10


def test_a_distillation_checkpoint_on_the_student_config_suggests_export(
        tmp_path, quickstart_teacher_ckpt):
    work = tmp_path / 'kd'
    train(KD, work, f'model.teacher_ckpt={quickstart_teacher_ckpt}')
    proc = run_tool('test.py', STUDENT, str(work / 'epoch_1.pth'),
                    '--work-dir', str(tmp_path / 'test'), check=False)
    assert proc.returncode != 0
    assert 'does not fit the model' in proc.stderr
    assert 'tools/export_student.py' in proc.stderr
