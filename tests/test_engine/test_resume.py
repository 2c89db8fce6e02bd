import os
import time

import torch

from mmkd_contrast.engine import find_resume_checkpoint


def save(path):
    torch.save(dict(state_dict=dict(w=torch.ones(3))), path)
    return str(path)


def test_last_checkpoint_names_the_file(tmp_path):
    ckpt = save(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(ckpt)
    path, log = find_resume_checkpoint(str(tmp_path))
    assert path == ckpt
    assert log[0][0] == 'info'


def test_empty_pointer_falls_back_to_the_newest_complete(tmp_path):
    save(tmp_path / 'epoch_1.pth')
    second = save(tmp_path / 'epoch_2.pth')
    time.sleep(0.01)
    # A truncated epoch 3 (what a kill during a non-atomic save leaves).
    data = (tmp_path / 'epoch_1.pth').read_bytes()
    (tmp_path / 'epoch_3.pth').write_bytes(data[:len(data) // 2])
    (tmp_path / 'epoch_10.pth').write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text('')
    path, log = find_resume_checkpoint(str(tmp_path))
    assert path == second
    level, message = log[0]
    assert level == 'warning'
    assert 'is empty' in message and second in message


def test_dangling_pointer_falls_back(tmp_path):
    first = save(tmp_path / 'iter_100.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    path, log = find_resume_checkpoint(str(tmp_path))
    assert path == first
    assert 'does not exist' in log[0][1]


def test_nothing_to_resume_says_so(tmp_path):
    path, log = find_resume_checkpoint(str(tmp_path / 'new'))
    assert path is None
    level, message = log[0]
    assert level == 'warning' and 'starts from scratch' in message
    os.makedirs(tmp_path / 'w')
    (tmp_path / 'w' / 'last_checkpoint').write_text('/no/such/epoch_9.pth')
    path, log = find_resume_checkpoint(str(tmp_path / 'w'))
    assert path is None
    assert '/no/such/epoch_9.pth' in log[0][1]
    assert 'starts from scratch' in log[0][1]


def test_a_moved_work_dir_resumes_from_the_same_file(tmp_path):
    """``last_checkpoint`` holds the absolute path of the old location;
    the file of that name in the moved dir is used, not just the newest."""
    moved = tmp_path / 'moved'
    moved.mkdir()
    first = save(moved / 'epoch_1.pth')
    save(moved / 'epoch_2.pth')
    (moved / 'last_checkpoint').write_text('/old/place/work/epoch_1.pth')
    path, log = find_resume_checkpoint(str(moved))
    assert path == first
    level, message = log[0]
    assert level == 'warning'
    assert 'moved or copied' in message and '/old/place' in message
    # A same-named file that is incomplete is not taken.
    (moved / 'epoch_1.pth').write_bytes(b'')
    path, log = find_resume_checkpoint(str(moved))
    assert path == str(moved / 'epoch_2.pth')
    assert 'newest complete' in log[0][1]
