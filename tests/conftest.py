import os
import sys

import torch

# Tests are small; one thread each keeps parallel runs on a 2-core machine
# from fighting over cores.
torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        '--run-slow', action='store_true', default=False,
        help='also run the tests marked slow (multi-process fault '
        'injection, each a minute or more)')
    parser.addoption(
        '--all-mutants', action='store_true', default=False,
        help='run every generated bad config (tests/config_mutants.py), '
        'not only the default sample')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'slow: a test of a minute or more; runs with --run-slow')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--run-slow'):
        return
    skip = pytest.mark.skip(reason='slow: run with --run-slow')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope='session')
def quickstart_teacher_ckpt(tmp_path_factory):
    """A checkpoint of the quickstart teacher (random weights, saved the way
    mmengine saves them) for distillation smoke runs."""
    from mmengine.config import Config

    import mmkd_contrast  # noqa: F401
    from mmkd_contrast.utils import build_in_scope
    cfg = Config.fromfile(
        os.path.join(
            os.path.dirname(os.path.dirname(__file__)), 'configs',
            'quickstart', 'teacher_resnet18-w16_1xb64_mnist5k.py'))
    torch.manual_seed(0)
    teacher = build_in_scope(cfg.model)
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict(epoch=0)),
               path)
    return str(path)
