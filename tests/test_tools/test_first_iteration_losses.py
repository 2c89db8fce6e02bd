"""tools/analysis_tools/first_iteration_losses.py: the faster modes
(channels_last, a compiled forward, both) give the eager NCHW losses."""
import importlib.util
import os.path as osp

import pytest
from tool_helpers import QUICKSTART, ROOT

KD = osp.join(QUICKSTART, 'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')
TEACHER = osp.join(QUICKSTART, 'teacher_resnet18-w16_1xb64_mnist5k.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'first_iteration_losses',
        osp.join(ROOT, 'tools', 'analysis_tools',
                 'first_iteration_losses.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_channels_last_and_compiled_losses_equal_eager():
    """``aot_eager`` runs dynamo and AOT autograd without inductor's code
    generation (minutes on a CPU); ``docs/benchmarks.md`` has the inductor
    figures of every method."""
    tool = load_tool()
    opts = {'train_dataloader.batch_size': 16}
    eager = {KD: tool.first_losses(KD, 2, 0, opts)}
    for channels_last, backend in ((True, None), (True, 'aot_eager')):
        other = {
            KD: tool.first_losses(KD, 2, 0, opts, channels_last, backend)
        }
        assert tool.differences(eager, other, 1e-4) == [], (channels_last,
                                                            backend)
    assert set(eager[KD][0]) == {'distill.loss_kd', 'student.loss'}
    # The comparison would see a change.
    moved = {KD: [dict(step) for step in eager[KD]]}
    moved[KD][1]['distill.loss_kd'] *= 1 + 2e-4
    assert len(tool.differences(eager, moved, 1e-4)) == 1


def test_channels_last_needs_a_distiller():
    tool = load_tool()
    with pytest.raises(ValueError, match='needs a distiller'):
        tool.first_losses(TEACHER, 1, 0, channels_last=True)


def test_inductor_draws_with_torch_generator_unless_asked(monkeypatch):
    """Random ops in an inductor graph use inductor's own generator unless
    ``fallback_random``: the tool compares arithmetic, so it sets it."""
    import torch
    tool = load_tool()
    seen = []

    def record(fn, **kwargs):
        seen.append(kwargs)
        return fn

    monkeypatch.setattr(torch, 'compile', record)
    opts = {'train_dataloader.batch_size': 4}
    tool.first_losses(KD, 1, 0, opts, compile_backend='inductor')
    tool.first_losses(KD, 1, 0, opts, compile_backend='inductor',
                      inductor_rng=True)
    tool.first_losses(KD, 1, 0, opts, compile_backend='aot_eager')
    assert [s['options'] for s in seen] == [
        dict(fallback_random=True), None, None]
    assert [s['backend'] for s in seen] == [
        'inductor', 'inductor', 'aot_eager']
