import glob
import math
import os.path as osp

from tool_helpers import QUICKSTART, last_scalars, train

PCKD = osp.join(QUICKSTART, 'pckd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def test_pckd_quickstart_one_epoch(tmp_path, quickstart_teacher_ckpt):
    """One epoch of the PCKD quickstart through tools/train.py: rotated
    training views, finite PCKD losses, and a validation accuracy from the
    standard single-view pipeline."""
    work = tmp_path / 'pckd'
    train(PCKD, work, f'model.teacher_ckpt={quickstart_teacher_ckpt}')
    assert (work / 'epoch_1.pth').is_file()
    records = last_scalars(work)
    train_records = [r for r in records if 'distill.loss_cc' in r]
    assert train_records
    for record in train_records:
        # The quickstart networks' widths differ (32 vs 128): no L_CA.
        assert 'distill.loss_ca' not in record
        # The released objective: no KD term.
        assert 'distill.loss_kd' not in record
        for key in ('student.loss', 'distill.loss_cc',
                    'distill.loss_fa', 'distill.preview_weight'):
            assert math.isfinite(record[key]), (key, record)
        assert 0 < record['distill.preview_weight'] <= 1
    top1 = [r['accuracy/top1'] for r in records if 'accuracy/top1' in r]
    assert top1 and 0 <= top1[-1] <= 100
    # The absent L_CA is announced once, at the start.
    log = glob.glob(str(work / '*' / '*.log'))
    assert len(log) == 1
    with open(log[0]) as f:
        assert f.read().count('L_CA (centre alignment') == 1
