import copy
import math

import pytest
import torch
import torch.nn.functional as F
from dist_helpers import run_distributed

from mmkd_contrast.models import CRDLoss, ProjectionHead
from mmkd_contrast.registry import MODELS


def reference_z(anchors, bank, sample_idx, neg_idx, tau, num_samples):
    """``mean(exp(v . u / tau)) * N`` over positives and negatives."""
    values = []
    for i in range(anchors.shape[0]):
        rows = [sample_idx[i].item()] + neg_idx[i].tolist()
        for r in rows:
            values.append(math.exp(float(anchors[i] @ bank[r]) / tau))
    return sum(values) / len(values) * num_samples


def reference_nce(anchors, bank, sample_idx, neg_idx, tau, z, num_samples):
    """``-mean_i [log(P0/(P0+c)) + sum_j log(c/(Pj+c))]``, c = K/N."""
    c = neg_idx.shape[1] / num_samples
    total = 0.
    for i in range(anchors.shape[0]):
        p0 = math.exp(float(anchors[i] @ bank[sample_idx[i]]) / tau) / z
        term = math.log(p0 / (p0 + c))
        for r in neg_idx[i].tolist():
            pj = math.exp(float(anchors[i] @ bank[r]) / tau) / z
            term += math.log(c / (pj + c))
        total -= term
    return total / anchors.shape[0]


def reference_bank_update(bank, sample_idx, new, momentum):
    """Row by row; a repeated index keeps its last occurrence."""
    out = bank.clone()
    for i in range(len(sample_idx)):
        r = sample_idx[i].item()
        row = momentum * bank[r] + (1 - momentum) * new[i]
        out[r] = row / row.norm()
    return out


def unit(*shape):
    return F.normalize(torch.randn(*shape), dim=1)


def make_loss(num_samples=12, feat_dim=4, num_negatives=5, **kwargs):
    return CRDLoss(num_samples=num_samples, feat_dim=feat_dim,
                   num_negatives=num_negatives, **kwargs)


@pytest.mark.parametrize('score_all_rows', [True, False])
def test_crd_matches_reference_with_fixed_negatives(score_all_rows):
    torch.manual_seed(0)
    loss = make_loss(temperature=0.5, loss_weight=0.8)
    loss.bank.score_all_rows = score_all_rows
    mem_s, mem_t = loss.bank.memory_s.clone(), loss.bank.memory_t.clone()
    s, t = unit(3, 4), unit(3, 4)
    idx = torch.tensor([2, 7, 11])
    neg = torch.tensor([[0, 1, 3, 3, 9], [2, 4, 5, 6, 11], [0, 7, 8, 9, 10]])

    value = loss(s, t, idx, neg_idx=neg)

    z_s = reference_z(s, mem_t, idx, neg, 0.5, 12)
    z_t = reference_z(t, mem_s, idx, neg, 0.5, 12)
    expected = 0.8 * (reference_nce(s, mem_t, idx, neg, 0.5, z_s, 12) +
                      reference_nce(t, mem_s, idx, neg, 0.5, z_t, 12))
    assert loss.z_s.item() == pytest.approx(z_s, rel=1e-5)
    assert loss.z_t.item() == pytest.approx(z_t, rel=1e-5)
    assert value.item() == pytest.approx(expected, rel=1e-5)
    assert value.dtype == torch.float32


def test_crd_sampled_negatives_are_the_ones_used():
    torch.manual_seed(0)
    loss = make_loss()
    reference = copy.deepcopy(loss)
    s, t = unit(4, 4), unit(4, 4)
    idx = torch.tensor([0, 5, 6, 11])
    torch.manual_seed(3)
    neg = loss.sample_negatives(idx)
    torch.manual_seed(3)
    value = loss(s, t, idx)
    assert torch.allclose(value, reference(s, t, idx, neg_idx=neg))


def test_crd_bank_update_rows_and_untouched_rows():
    torch.manual_seed(0)
    loss = make_loss(momentum=0.3)
    mem_s, mem_t = loss.bank.memory_s.clone(), loss.bank.memory_t.clone()
    s, t = unit(4, 4), unit(4, 4)
    # Image 3 appears twice: its last occurrence is written.
    idx = torch.tensor([3, 8, 3, 0])
    loss(s, t, idx)
    assert torch.allclose(loss.bank.memory_s,
                          reference_bank_update(mem_s, idx, s, 0.3),
                          atol=1e-6)
    assert torch.allclose(loss.bank.memory_t,
                          reference_bank_update(mem_t, idx, t, 0.3),
                          atol=1e-6)
    others = torch.tensor([r for r in range(12) if r not in (0, 3, 8)])
    assert torch.equal(loss.bank.memory_s[others], mem_s[others])
    assert torch.equal(loss.bank.memory_t[others], mem_t[others])


def test_crd_eval_mode_leaves_banks_alone():
    loss = make_loss().eval()
    before = copy.deepcopy(loss.state_dict())
    loss(unit(2, 4), unit(2, 4), torch.tensor([1, 2]),
         labels=torch.tensor([0, 1]))
    after = loss.state_dict()
    for name in ('memory_s', 'memory_t', 'memory_labels'):
        assert torch.equal(before[f'bank.{name}'], after[f'bank.{name}'])


def test_crd_z_fixed_after_first_call_and_checkpointed():
    torch.manual_seed(0)
    loss = make_loss()
    assert loss.z_s.item() < 0 and loss.z_t.item() < 0
    loss(unit(3, 4), unit(3, 4), torch.tensor([1, 2, 3]))
    z_s, z_t = loss.z_s.item(), loss.z_t.item()
    assert z_s > 0 and z_t > 0
    loss(10 * unit(3, 4), unit(3, 4), torch.tensor([4, 5, 6]))
    assert loss.z_s.item() == z_s and loss.z_t.item() == z_t

    state = loss.state_dict()
    assert {'bank.memory_s', 'bank.memory_t', 'bank.memory_labels', 'z_s',
            'z_t'} <= set(state)
    resumed = make_loss()
    resumed.load_state_dict(state)
    s, t, idx = unit(2, 4), unit(2, 4), torch.tensor([7, 9])
    neg = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 10]])
    assert torch.equal(resumed(s, t, idx, neg_idx=neg),
                       loss(s, t, idx, neg_idx=neg))
    assert resumed.z_s.item() == z_s


def test_crd_loads_a_state_dict_with_the_old_key_names():
    # Before the banks became the ``bank`` submodule they were the loss's
    # own buffers: memory_s, memory_t, memory_labels.
    from mmengine.runner.checkpoint import load_state_dict
    torch.manual_seed(0)
    trained = make_loss(neg_sampling='other_class')
    trained(unit(3, 4), unit(3, 4), torch.tensor([1, 2, 3]),
            labels=torch.tensor([0, 1, 0]))
    old = {key.replace('bank.', ''): value
           for key, value in trained.state_dict().items()}
    assert 'memory_s' in old and 'bank.memory_s' not in old
    for load in (lambda m, s: m.load_state_dict(s),
                 lambda m, s: load_state_dict(m, s, strict=True)):
        resumed = make_loss(neg_sampling='other_class')
        load(resumed, old)
        for key, value in trained.state_dict().items():
            assert torch.equal(resumed.state_dict()[key], value), key
        assert resumed._z_known is None  # read again after loading
    # Nested in a model, under a prefix.
    model = torch.nn.ModuleDict(dict(crd=make_loss()))
    model.load_state_dict({f'crd.{key}': value for key, value in old.items()
                           if not key.startswith('z_')}, strict=False)
    assert torch.equal(model['crd'].bank.memory_s, trained.bank.memory_s)


def test_crd_settings_read_through_the_loss_banks_only_on_the_bank():
    loss = make_loss(momentum=0.3, neg_sampling='other_class')
    assert (loss.num_samples, loss.feat_dim, loss.momentum,
            loss.neg_sampling) == (12, 4, 0.3, 'other_class')
    for name in ('memory_s', 'memory_t', 'memory_labels'):
        assert not hasattr(loss, name) and hasattr(loss.bank, name)
    assert 'bank' in dict(loss.named_children())
    loss.neg_sampling = 'random'
    assert loss.bank.neg_sampling == 'random' and loss.required_inputs() == {}
    with pytest.raises(AttributeError):
        loss.num_samples = 5


def test_crd_non_finite_batch_does_not_poison_the_banks():
    torch.manual_seed(0)
    loss = make_loss()
    loss(unit(3, 4), unit(3, 4), torch.tensor([1, 2, 3]))  # Z estimated
    mem_s, mem_t = loss.bank.memory_s.clone(), loss.bank.memory_t.clone()
    s, t = unit(3, 4), unit(3, 4)
    s[1, 2] = float('nan')  # one bad student row
    t[2] = float('inf')  # one bad teacher row
    idx = torch.tensor([4, 5, 6])
    loss(s, t, idx)
    # Rows whose new value is not finite keep their old value; the others
    # are updated as usual.
    assert torch.equal(loss.bank.memory_s[5], mem_s[5])
    assert torch.equal(loss.bank.memory_t[6], mem_t[6])
    assert not torch.equal(loss.bank.memory_s[4], mem_s[4])
    assert not torch.equal(loss.bank.memory_t[5], mem_t[5])
    assert torch.isfinite(loss.bank.memory_s).all()
    assert torch.isfinite(loss.bank.memory_t).all()
    # A clean batch afterwards has a finite loss, with the same Z.
    z_s = loss.z_s.item()
    assert torch.isfinite(loss(unit(3, 4), unit(3, 4), idx))
    assert loss.z_s.item() == z_s


def test_crd_non_finite_first_batch_leaves_z_unestimated():
    torch.manual_seed(0)
    loss = make_loss()
    nan = torch.full((3, 4), float('nan'))
    assert not torch.isfinite(loss(nan, nan, torch.tensor([1, 2, 3])))
    assert loss.z_s.item() < 0 and loss.z_t.item() < 0
    assert torch.isfinite(loss.bank.memory_s).all()
    value = loss(unit(3, 4), unit(3, 4), torch.tensor([4, 5, 6]))
    assert torch.isfinite(value)
    assert loss.z_s.item() > 0 and loss.z_t.item() > 0


def test_crd_z_is_read_again_after_loading_a_state_dict():
    torch.manual_seed(0)
    loss = make_loss()
    fresh = make_loss().state_dict()
    loss(unit(3, 4), unit(3, 4), torch.tensor([1, 2, 3]))
    assert loss.z_s.item() > 0
    loss.load_state_dict(fresh)  # Z back to "not estimated"
    loss(unit(3, 4), unit(3, 4), torch.tensor([4, 5, 6]))
    assert loss.z_s.item() > 0 and loss.z_t.item() > 0


def test_crd_value_checks_first_call_or_debug():
    from mmkd_contrast.utils import set_debug_checks
    s, t = unit(2, 4), unit(2, 4)
    loss = make_loss()
    loss(s, t, torch.tensor([0, 1]))
    # Later calls do not read values (a sync with a GPU): an index out of
    # range reaches the indexing op, which fails on its own.
    with pytest.raises((IndexError, RuntimeError)) as err:
        loss(s, t, torch.tensor([0, 12]))
    assert 'num_samples' not in str(err.value)
    set_debug_checks(True)
    try:
        with pytest.raises(ValueError, match=r'sample_idx 12 '):
            loss(s, t, torch.tensor([0, 12]))
    finally:
        set_debug_checks(None)


def test_crd_loss_weight_scales():
    torch.manual_seed(0)
    s, t, idx = unit(3, 4), unit(3, 4), torch.tensor([0, 4, 9])
    neg = torch.tensor([[1, 2, 3, 5, 6], [0, 1, 2, 3, 5], [0, 1, 2, 3, 4]])
    base = make_loss()(s, t, idx, neg_idx=neg)
    scaled = make_loss(loss_weight=2.5)(s, t, idx, neg_idx=neg)
    assert torch.allclose(scaled, 2.5 * base)
    assert base.item() > 0


def test_crd_gradient_reaches_embeddings_and_heads():
    torch.manual_seed(0)
    head_s = ProjectionHead(6, 4)
    head_t = ProjectionHead(10, 4, hidden_channels=8)
    feat_s, feat_t = torch.randn(3, 6), torch.randn(3, 10)
    idx = torch.tensor([1, 5, 8])
    neg = torch.tensor([[0, 2, 3, 4, 6], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
    grads = {}
    for score_all_rows in (True, False):
        loss = make_loss()
        loss.bank.score_all_rows = score_all_rows
        s_emb, t_emb = head_s(feat_s), head_t(feat_t)
        s_emb.retain_grad()
        t_emb.retain_grad()
        head_s.zero_grad()
        head_t.zero_grad()
        # The banks are updated in place inside the call, before backward.
        loss(s_emb, t_emb, idx, neg_idx=neg).backward()
        for name, tensor in (('s_emb', s_emb), ('t_emb', t_emb)):
            assert tensor.grad is not None and tensor.grad.abs().sum() > 0
        for head in (head_s, head_t):
            for p in head.parameters():
                assert p.grad is not None and p.grad.abs().sum() > 0
        grads[score_all_rows] = (s_emb.grad.clone(), t_emb.grad.clone())
    # Both scoring paths differentiate the same function of the old banks.
    assert torch.allclose(grads[True][0], grads[False][0], atol=1e-6)
    assert torch.allclose(grads[True][1], grads[False][1], atol=1e-6)


def test_crd_two_calls_before_one_backward():
    # E.g. two views per step: the second call updates the banks before the
    # first call's backward; both scoring paths must still agree.
    torch.manual_seed(0)
    steps = [(unit(3, 4), unit(3, 4), torch.tensor(i)) for i in
             ([0, 1, 2], [2, 3, 4], [5, 6, 7], [1, 8, 9])]
    grads = {}
    for score_all_rows in (True, False):
        loss = make_loss()
        loss.bank.score_all_rows = score_all_rows
        leaves = [(s.clone().requires_grad_(True),
                   t.clone().requires_grad_(True), idx)
                  for s, t, idx in steps]
        for group in (leaves[:1], leaves[1:]):
            total = sum(
                loss(s, t, idx, neg_idx=(idx[:, None] + 1 + torch.arange(5)) %
                     12) for s, t, idx in group)
            total.backward()
        grads[score_all_rows] = [g for s, t, _ in leaves
                                 for g in (s.grad, t.grad)]
    for dense, gathered in zip(grads[True], grads[False]):
        assert dense is not None and dense.abs().sum() > 0
        assert torch.allclose(dense, gathered, atol=1e-6)


def test_crd_gradient_matches_reference_autograd():
    torch.manual_seed(0)
    loss = make_loss(temperature=0.5)
    mem_s, mem_t = loss.bank.memory_s.clone(), loss.bank.memory_t.clone()
    s = unit(2, 4).requires_grad_(True)
    t = unit(2, 4).requires_grad_(True)
    idx = torch.tensor([3, 4])
    neg = torch.tensor([[0, 1, 2, 5, 6], [7, 8, 9, 10, 11]])
    loss(s, t, idx, neg_idx=neg).backward()

    # Differentiable re-statement of the formula with the old banks.
    s2 = s.detach().clone().requires_grad_(True)
    t2 = t.detach().clone().requires_grad_(True)
    cand = torch.cat([idx[:, None], neg], 1)
    total = 0.
    for anchors, bank, z in ((s2, mem_t, loss.z_s), (t2, mem_s, loss.z_t)):
        p = torch.exp(torch.einsum('bd,bkd->bk', anchors, bank[cand]) /
                      0.5) / z
        c = 5 / 12
        total = total - (torch.log(p[:, 0] / (p[:, 0] + c)) + torch.log(
            c / (p[:, 1:] + c)).sum(1)).mean()
    total.backward()
    assert torch.allclose(s.grad, s2.grad, atol=1e-5)
    assert torch.allclose(t.grad, t2.grad, atol=1e-5)


def test_crd_other_class_negatives():
    num = 20
    labels_all = torch.arange(num) % 4
    loss = make_loss(num_samples=num, num_negatives=8,
                     neg_sampling='other_class')
    gen = torch.Generator().manual_seed(0)

    # Nothing seen yet: the anchors and the other rows of their class in the
    # batch are excluded, unseen rows are eligible.
    idx = torch.tensor([0, 4, 1])
    neg = torch.cat([loss.sample_negatives(idx, labels_all[idx],
                                           generator=gen)
                     for _ in range(50)], 1)
    assert set(neg[0].tolist()) == set(range(num)) - {0, 4}
    assert set(neg[2].tolist()) == set(range(num)) - {1}

    # Once every label is known, a same-label row is never drawn.
    for start in range(0, num, 5):
        batch = torch.arange(start, start + 5)
        loss(unit(5, 4), unit(5, 4), batch, labels=labels_all[batch])
    assert torch.equal(loss.bank.memory_labels, labels_all)
    idx = torch.tensor([0, 5, 10, 19])
    for _ in range(20):
        neg = loss.sample_negatives(idx, labels_all[idx], generator=gen)
        assert (labels_all[neg] != labels_all[idx][:, None]).all()
    assert set(neg.flatten().tolist()) <= set(range(num))


def test_crd_other_class_inside_forward_excludes_batch_classmates():
    torch.manual_seed(0)
    loss = make_loss(num_samples=8, num_negatives=4,
                     neg_sampling='other_class')
    drawn = []
    sample = loss.sample_negatives

    def spy(*args, **kwargs):
        out = sample(*args, **kwargs)
        drawn.append(out)
        return out

    loss.sample_negatives = spy
    loss(unit(2, 4), unit(2, 4), torch.tensor([2, 6]),
         labels=torch.tensor([1, 1]))
    assert not ((drawn[0] == 2) | (drawn[0] == 6)).any()


def _draws_after_a_step(rank, world_size, seed):
    """One distributed training step (which stores the global batch's
    labels), then negatives drawn for the same anchors on every rank."""
    torch.set_num_threads(1)
    loss = CRDLoss(num_samples=200, feat_dim=DIM, num_negatives=60,
                   neg_sampling='other_class')
    gen = torch.Generator().manual_seed(7)
    idx = torch.randperm(200, generator=gen)[:8]
    labels = idx % 5
    s, t = (F.normalize(torch.randn(8, DIM, generator=gen), dim=1)
            for _ in range(2))
    part = slice(rank * 4, (rank + 1) * 4) if world_size > 1 \
        else slice(None)
    loss(s[part], t[part], idx[part], labels=labels[part])
    anchors = torch.tensor([3, 150, 42])
    torch.manual_seed(seed)
    return dict(neg=loss.sample_negatives(anchors, anchors % 5),
                memory_labels=loss.bank.memory_labels)


def test_crd_other_class_same_draws_on_every_rank():
    ranks = run_distributed(_draws_after_a_step, world_size=2, args=(3, ))
    single = _draws_after_a_step(0, 1, 3)
    assert torch.equal(ranks[0]['memory_labels'], ranks[1]['memory_labels'])
    assert torch.equal(ranks[0]['memory_labels'], single['memory_labels'])
    assert (ranks[0]['memory_labels'] >= 0).sum() == 8
    assert torch.equal(ranks[0]['neg'], ranks[1]['neg'])
    assert torch.equal(ranks[0]['neg'], single['neg'])
    # And the draws do depend on the seed.
    other = _draws_after_a_step(0, 1, 4)
    assert not torch.equal(other['neg'], single['neg'])


def test_crd_required_inputs():
    assert make_loss().required_inputs() == {}
    assert set(make_loss(neg_sampling='other_class').required_inputs()) == {
        'labels'}


def test_crd_errors():
    with pytest.raises(ValueError, match='num_negatives.*16.*num_samples.*16'):
        CRDLoss(num_samples=16, num_negatives=16)
    with pytest.raises(ValueError, match='neg_sampling'):
        make_loss(neg_sampling='hard')
    loss = make_loss()
    s, t = unit(2, 4), unit(2, 4)
    # Value checks run on a loss's first call (or always in debug mode).
    with pytest.raises(ValueError, match=r'sample_idx 12 .*num_samples = 12'):
        make_loss()(s, t, torch.tensor([0, 12]))
    with pytest.raises(ValueError, match=r'sample_idx -1 '):
        make_loss()(s, t, torch.tensor([-1, 1]))
    with pytest.raises(ValueError, match=r'\(2, 4\).*\(3, 4\)'):
        loss(s, unit(3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'feat_dim = 4'):
        loss(unit(2, 5), unit(2, 5), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'sample_idx.*\(2,\)'):
        loss(s, t, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r'sample_idx.*integer'):
        loss(s, t, torch.tensor([0., 1.]))
    with pytest.raises(ValueError, match="anchor's own"):
        make_loss()(s, t, torch.tensor([0, 1]),
                    neg_idx=torch.tensor([[0, 2, 3, 4, 5], [2, 3, 4, 5, 6]]))
    with pytest.raises(ValueError, match=r'neg_idx.*\(2, 5\)'):
        loss(s, t, torch.tensor([0, 1]), neg_idx=torch.tensor([[2], [3]]))
    with pytest.raises(ValueError, match='labels'):
        make_loss(neg_sampling='other_class')(s, t, torch.tensor([0, 1]))
    # Nothing was written by the failed calls.
    assert loss.z_s.item() < 0


def test_crd_registered():
    loss = MODELS.build(
        dict(type='CRDLoss', num_samples=100, num_negatives=10, feat_dim=8))
    assert isinstance(loss, CRDLoss)


# ---------------------------------------------------------------------------
# Two processes must keep identical banks, equal to a single process fed the
# concatenated batches.

NUM, DIM, K, STEPS, LOCAL = 20, 4, 5, 3, 3


def _global_batch(step):
    gen = torch.Generator().manual_seed(100 + step)
    idx = torch.randperm(NUM, generator=gen)[:2 * LOCAL]
    if step == STEPS - 1:
        idx[-1] = idx[0]  # an image on both ranks
    s = F.normalize(torch.randn(2 * LOCAL, DIM, generator=gen), dim=1)
    t = F.normalize(torch.randn(2 * LOCAL, DIM, generator=gen), dim=1)
    return idx, s, t, idx % 3


def _negatives(idx):
    # A fixed function of the image, so that both runs use the same ones.
    return (idx[:, None] + 1 + torch.arange(K)) % NUM


def _train_steps(rank, world_size):
    torch.set_num_threads(1)
    loss = CRDLoss(num_samples=NUM, feat_dim=DIM, num_negatives=K,
                   momentum=0.4)
    losses = []
    for step in range(STEPS):
        idx, s, t, labels = _global_batch(step)
        part = slice(rank * LOCAL, (rank + 1) * LOCAL) if world_size > 1 \
            else slice(None)
        s_emb = s[part].clone().requires_grad_(True)
        value = loss(s_emb, t[part], idx[part], labels=labels[part],
                     neg_idx=_negatives(idx[part]))
        value.backward()
        losses.append(value.item())
    return dict(memory_s=loss.bank.memory_s, memory_t=loss.bank.memory_t,
                memory_labels=loss.bank.memory_labels, z_s=loss.z_s,
                z_t=loss.z_t, losses=losses)


def test_crd_distributed_banks_identical_and_equal_to_single_process():
    ranks = run_distributed(_train_steps, world_size=2)
    single = _train_steps(0, 1)
    for name in ('memory_s', 'memory_t', 'memory_labels', 'z_s', 'z_t'):
        assert torch.equal(ranks[0][name], ranks[1][name]), name
        assert torch.allclose(ranks[0][name].double(),
                              single[name].double(), rtol=1e-5,
                              atol=1e-6), name
    assert not torch.equal(single['memory_s'],
                           CRDLoss(NUM, DIM, K).bank.memory_s)
    # Equal local batches: the mean of the ranks' losses is the loss on the
    # concatenated batch.
    for step in range(STEPS):
        mean = (ranks[0]['losses'][step] + ranks[1]['losses'][step]) / 2
        assert mean == pytest.approx(single['losses'][step], rel=1e-5)
