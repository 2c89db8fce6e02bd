"""No operation of this project's code makes the host wait for a GPU in a
training step after the first one, for every method.

On a CPU nothing stalls, so the operations that would are counted: a
``TorchDispatchMode`` sees every aten op of a full ``train_step`` (forward,
backward, optimizer step) and each op that reads a value on the host
(``_local_scalar_dense``: ``.item()``, ``bool()``/``int()`` of a tensor), has
a data-dependent size (``nonzero``, ``unique``, ``masked_select``, boolean
indexing) or makes a tensor from host data (a blocking copy to a GPU) is
attributed to the innermost calling frame outside torch. A function mode
adds ``.tolist()``, ``.cpu()`` and ``.numpy()``, which dispatch nothing on a
CPU.
"""
import pytest
import torch
from step_helpers import (METHOD_CONFIGS, SyncCounter, build_method,
                          sgd_wrapper)

from mmkd_contrast.utils import set_debug_checks


@pytest.fixture(autouse=True)
def no_debug_checks():
    set_debug_checks(False)
    yield
    set_debug_checks(None)


def count_second_step(model, data):
    wrapper = sgd_wrapper(model)
    model.train_step(data, wrapper)  # the first step may check values
    with SyncCounter() as counter:
        model.train_step(data, wrapper)
    return counter


@pytest.mark.parametrize('method', list(METHOD_CONFIGS))
def test_no_sync_from_the_plugin_after_the_first_step(method):
    model, data = build_method(method)
    counter = count_second_step(model, data)
    plugin = counter.summary(counter.plugin_events())
    assert not plugin, f'{method}: {dict(plugin)}'
    # The counter does see the syncs of the rest of the stack (mmengine's
    # batch stacking reads a size), so an empty list is not blindness.
    assert counter.events, method


def test_crd_with_other_class_negatives_does_not_sync():
    model, data = build_method('CRD')
    crd = model.distill_losses['crd']
    crd.neg_sampling = 'other_class'
    model.loss_inputs['crd']['labels'] = dict(
        role='data', tap='gt_label', connector=None)
    counter = count_second_step(model, data)
    assert not counter.plugin_events(), dict(counter.summary(
        counter.plugin_events()))
    assert (crd.bank.memory_labels >= 0).sum() > 0  # the labels were used


def test_the_counter_attributes_plugin_syncs():
    """With the debug switch on, the value checks run every step and the
    counter finds them in the plugin's files (and names them)."""
    model, data = build_method('LFCC')
    set_debug_checks(True)
    counter = count_second_step(model, data)
    events = counter.plugin_events()
    assert events
    assert all(op == 'aten._local_scalar_dense' for op, *_ in events)
    assert any('lfcc.py' in key for key in counter.summary(events))


def test_the_counter_sees_host_copies_and_boolean_indexing():
    x = torch.arange(6.)
    with SyncCounter() as counter:
        x.tolist()
        x.cpu()
        x[x > 2]
        torch.unique(x)
        x.new_tensor([1., 2.])
        x.sum().item()
    ops = [op for op, *_ in counter.events]
    assert ops == [
        'Tensor.tolist', 'Tensor.cpu', 'aten.index', 'aten._unique2',
        'aten.lift_fresh', 'aten._local_scalar_dense'
    ]
    assert all(path == __file__ for _, path, *_ in counter.events)
