"""benchmarks/accuracy_cifar10.py: its protocol pieces, its summary, an
end-to-end run on tiny made-up CIFAR-like JPEGs (a teacher, the student
alone and KD, one epoch each), and the real data when it is unpacked."""
import csv
import io
import json
import os.path as osp
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))

import accuracy_cifar10 as acc  # noqa: E402

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')


def method(name):
    return next(m for m in acc.METHODS if m.name == name)


def test_rows_and_their_references():
    names = [m.name for m in acc.METHODS]
    assert names == [
        'student alone', 'KD', 'CRD', 'CRD+KD', 'MSDCRD', 'PCKD',
        'ViT student alone', 'KD (ViT student)', 'LFCC (ViT student)'
    ]
    for m in acc.METHODS:
        assert osp.isfile(osp.join(acc.common.CONFIGS, m.config)), m.config
        for ref in (m.reference, m.kd):
            if ref is not None:
                other = method(ref)
                # compared only with the same student (and teacher for KD)
                assert other.student == m.student
        if m.kd is not None:
            assert method(m.kd).teacher == m.teacher
    assert method('LFCC (ViT student)').student != method('KD').student
    assert method('LFCC (ViT student)').kd == 'KD (ViT student)'


def test_selection_adds_the_references_and_keeps_table_order():
    names = [m.name for m in acc.select_methods(['LFCC (ViT student)',
                                                 'CRD'])]
    assert names == ['student alone', 'KD', 'CRD', 'ViT student alone',
                     'KD (ViT student)', 'LFCC (ViT student)']
    assert acc.parse_args(['--quick']).seeds == (0, )
    assert acc.parse_args([]).seeds == (0, 1, 2)
    with pytest.raises(SystemExit):
        acc.parse_args(['--methods', 'NotAMethod'])
    with pytest.raises(SystemExit):
        acc.parse_args(['--jobs', '0'])


def test_protocol_options():
    options = acc.protocol_options(method('KD'), 2, 't.pth')
    assert 'randomness.seed=2' in options
    assert 'model.teacher_ckpt=t.pth' in options
    # the protocol itself lives in the configs
    assert not any('num_per_class' in o or 'max_epochs' in o
                   for o in options)
    with pytest.raises(ValueError, match='KD needs a teacher'):
        acc.protocol_options(method('KD'), 0)
    small = acc.protocol_options(method('CRD+KD'), 0, 't.pth', '/x', 3, 2)
    assert 'train_dataloader.dataset.num_per_class=3' in small
    assert 'train_dataloader.dataset.dataset.data_root=/x' in small
    assert 'model.distill_losses.crd.num_samples=30' in small
    # 30 * 16384 / 50000 = 9.8; at most the 27 rows of other classes
    assert 'model.distill_losses.crd.num_negatives=10' in small
    assert 'param_scheduler.1.T_max=2' in small


def test_crd_config_banks_match_the_subset():
    from mmengine.config import Config
    for name in ('CRD', 'CRD+KD'):
        cfg = Config.fromfile(osp.join(acc.common.CONFIGS,
                                       method(name).config))
        crd = cfg.model.distill_losses.crd
        assert crd.num_samples == acc.NUM_CLASSES * acc.PER_CLASS
        assert cfg.train_dataloader.dataset.num_per_class == acc.PER_CLASS
        assert crd.neg_sampling == 'other_class'
        assert cfg.model.loss_inputs.crd.labels == 'data.gt_label'


RESULTS = [
    dict(method='student alone', seed=1, top1=50.0),
    dict(method='student alone', seed=0, top1=52.0),
    dict(method='KD', seed=0, top1=55.0),
    dict(method='KD', seed=1, top1=57.0),
    dict(method='CRD', seed=0, top1=53.0),
    dict(method='ViT student alone', seed=0, top1=40.0),
    dict(method='LFCC (ViT student)', seed=0, top1=44.5),
]


def test_summary_gains_over_the_row_own_references():
    rows = {r['method']: r for r in acc.summarize(RESULTS, acc.METHODS)}
    assert list(rows) == ['student alone', 'KD', 'CRD', 'ViT student alone',
                          'LFCC (ViT student)']
    assert rows['student alone']['top1'] == [52.0, 50.0]
    assert rows['student alone']['gain'] is None
    assert rows['KD']['gain'] == pytest.approx(5.0)
    assert rows['KD']['gain_kd'] is None
    assert rows['CRD']['gain'] == pytest.approx(2.0)
    assert rows['CRD']['gain_kd'] == pytest.approx(-3.0)
    assert rows['CRD']['std'] is None
    # LFCC is compared with the ViT alone; its KD row has no result
    assert rows['LFCC (ViT student)']['gain'] == pytest.approx(4.5)
    assert rows['LFCC (ViT student)']['gain_kd'] is None


def test_table_and_csv():
    rows = acc.summarize(RESULTS, acc.METHODS)
    table = acc.markdown_table(rows, acc.METHODS, {'CRD': 'r20, 80.00'})
    lines = table.strip().split('\n')
    assert len(lines) == 2 + 5
    assert lines[4] == ('| CRD | resnet8 | r20, 80.00 | 53.00 | +2.00 | '
                        '-3.00 | 1 | 53.00 |')
    parsed = list(csv.DictReader(io.StringIO(
        acc.csv_text(rows, acc.METHODS))))
    assert parsed[1]['mean_top1'] == '56.00'
    assert parsed[1]['std_top1'] == '1.41'
    assert parsed[1]['gain_over_student'] == '5.00'
    assert parsed[1]['gain_over_kd'] == ''
    assert parsed[2]['gain_over_kd'] == '-3.00'


def test_missing_data_is_an_error_that_says_how_to_unpack(tmp_path):
    problem = acc.missing_data(str(tmp_path / 'cifar10-jpeg'))
    assert 'not found' in problem and 'tar -xzf' in problem
    with pytest.raises(SystemExit, match='CIFAR-10 JPEG data not found'):
        acc.main(['--data-root', str(tmp_path / 'nothing'), '--out-dir',
                  str(tmp_path / 'out')])


def make_jpegs(root, train_per_class, test_per_class):
    import cv2
    rng = np.random.default_rng(0)
    for split, count in (('train', train_per_class),
                         ('test', test_per_class)):
        for label, name in enumerate(CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                # a class-dependent colour plus noise
                image = rng.integers(0, 60, (32, 32, 3)) + label * 20
                cv2.imwrite(str(folder / f'{i:04d}.jpg'),
                            image.astype(np.uint8))


def test_end_to_end_on_tiny_jpegs(tmp_path, capsys):
    data = tmp_path / 'cifar10-jpeg'
    make_jpegs(data, train_per_class=3, test_per_class=2)
    out = tmp_path / 'out'
    argv = ['--data-root', str(data), '--out-dir', str(out), '--methods',
            'KD', '--per-class', '2', '--epochs', '1', '--teacher-epochs',
            '1', '--seeds', '0', '--jobs', '2']
    assert acc.main(argv) == 0
    text = capsys.readouterr().out
    assert '[1/2 done]' in text and '[2/2 done]' in text and 'ETA' in text
    assert 'NOT the fixed protocol' in text
    with open(out / 'accuracy_cifar10.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['method'] for r in rows] == ['student alone', 'KD']
    for row in rows:
        assert 0. <= float(row['mean_top1']) <= 100.
    assert rows[1]['teacher'].startswith('resnet20 (CNN), ')
    with open(out / 'teachers' / 'resnet20' / 'teacher.json') as f:
        teacher = json.load(f)
    assert osp.isfile(teacher['checkpoint'])
    with open(out / 'accuracy_cifar10.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert osp.isfile(out / 'progress.log')
    # the student saw 2 images per class: 20 samples, 1 epoch
    log = (out / 'kd' / 'seed0' / 'train.log').read_text()
    assert 'num_per_class=2' in log
    # the KD row (it has a teacher) also reports the teacher agreement
    with open(out / 'accuracy_cifar10_runs.json') as f:
        runs = {r['method']: r for r in json.load(f)}
    assert 0 <= runs['KD']['agreement'] <= 100 and runs['KD']['kl'] >= 0
    assert 'agreement' not in runs['student alone']
    assert 'with_teacher_agreement.py' in log
    assert '| KD | ' in text.split('Agreement with the teacher')[1]

    # started again: the teacher and both runs are reused, nothing trains
    assert acc.main(argv) == 0
    text = capsys.readouterr().out
    assert 'reusing' in text and text.count('(reused)') == 2
    assert 'start ' not in text


REAL = osp.join(ROOT, acc.DATA_ROOT)


@pytest.mark.skipif(
    acc.missing_data(REAL) is not None,
    reason=f'real-data check skipped: {acc.missing_data(REAL)}')
def test_real_data_subset_and_test_split():
    from mmengine.config import Config

    import mmkd_contrast  # noqa: F401
    from mmkd_contrast.registry import DATASETS
    cfg = Config.fromfile(osp.join(acc.common.CONFIGS,
                                   method('KD').config))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        dataset = loader.dataset
        inner = dataset.get('dataset', dataset)
        inner.data_root = REAL
        dataset.lazy_init = False
    train = DATASETS.build(cfg.train_dataloader.dataset)
    test = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(train) == acc.NUM_CLASSES * acc.PER_CLASS
    assert len(test) == 10000
    assert train.metainfo['classes'] == CLASSES
    counts = np.bincount([train.get_cat_ids(i)[0]
                          for i in range(len(train))])
    assert counts.tolist() == [acc.PER_CLASS] * acc.NUM_CLASSES
