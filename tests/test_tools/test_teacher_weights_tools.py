"""The training and test tools and the teacher's weights: a random teacher
is refused, a distillation checkpoint supplies its own teacher."""
import shutil

from tool_helpers import QUICKSTART, SMALL_DATA, run_tool, train

KD = f'{QUICKSTART}/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py'


def test_a_teacher_without_weights_is_refused_before_training(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    keep = work / 'earlier_result.txt'
    keep.write_text('keep me')
    proc = run_tool('train.py', KD, '--work-dir', str(work), '--cfg-options',
                    'model.teacher_ckpt=None', 'train_cfg.max_epochs=1',
                    *SMALL_DATA, check=False)
    assert proc.returncode != 0
    assert 'RandomTeacherError' in proc.stderr
    assert 'model.teacher_ckpt' in proc.stderr
    assert '--random-teacher' in proc.stderr
    assert 'Epoch(train)' not in proc.stdout + proc.stderr
    assert keep.read_text() == 'keep me'
    assert not list(work.rglob('*.pth'))


def test_random_teacher_opt_in_trains(tmp_path):
    work = tmp_path / 'work'
    proc = train(KD, work, 'model.teacher_ckpt=None',
                 extra_args=['--random-teacher'])
    assert (work / 'epoch_1.pth').is_file()
    assert 'Teacher weights: random' in proc.stdout + proc.stderr


def test_random_teacher_flag_needs_a_distiller(tmp_path):
    proc = run_tool('train.py', f'{QUICKSTART}/'
                    'student_resnet18-w4_1xb64_mnist5k.py', '--work-dir',
                    str(tmp_path), '--random-teacher', check=False)
    assert proc.returncode != 0
    assert 'not a distiller' in proc.stderr


def test_test_and_resume_need_no_teacher_file(tmp_path,
                                              quickstart_teacher_ckpt):
    """The checkpoint holds every teacher.* weight: once trained, the
    teacher's original file is no longer needed to test or resume."""
    teacher = tmp_path / 'teacher.pth'
    shutil.copy(quickstart_teacher_ckpt, teacher)
    work = tmp_path / 'kd'
    train(KD, work, f'model.teacher_ckpt={teacher}', epochs=2)
    teacher.unlink()

    proc = run_tool('test.py', KD, str(work / 'epoch_1.pth'), '--work-dir',
                    str(tmp_path / 'test'), '--cfg-options',
                    f'model.teacher_ckpt={teacher}', *SMALL_DATA)
    assert 'accuracy/top1' in proc.stdout + proc.stderr

    (work / 'epoch_2.pth').unlink()
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    proc = train(KD, work, f'model.teacher_ckpt={teacher}', epochs=2,
                 extra_args=['--resume'])
    assert (work / 'epoch_2.pth').is_file()
    assert 'teacher weights come from' in proc.stdout + proc.stderr
