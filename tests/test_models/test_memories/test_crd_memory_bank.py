import math

import pytest
import torch
import torch.nn.functional as F
from dist_helpers import run_distributed

from mmkd_contrast.models import CRDMemoryBank, RecycledCopies
from mmkd_contrast.registry import MODELS


def unit(*shape):
    return F.normalize(torch.randn(*shape), dim=1)


def make_bank(num_samples=12, feat_dim=4, **kwargs):
    return CRDMemoryBank(num_samples=num_samples, feat_dim=feat_dim,
                         **kwargs)


def known_labels_bank(num, num_classes):
    """An 'other_class' bank whose every row's label is known."""
    bank = make_bank(num_samples=num, neg_sampling='other_class')
    labels = torch.arange(num) % num_classes
    bank.memory_labels.copy_(labels)
    return bank, labels


def test_initial_banks_are_deterministic_and_in_range():
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a, b = make_bank(feat_dim=48), make_bank(feat_dim=48)
    # Drawn from a generator of the bank's own.
    assert torch.equal(torch.get_rng_state(), state)
    bound = 1 / math.sqrt(48 / 3)
    assert torch.equal(a.memory_s, b.memory_s)
    assert not torch.equal(a.memory_s, a.memory_t)
    assert a.memory_s.abs().max() <= bound
    assert (a.memory_labels == -1).all()
    assert a.memory_s.shape == (12, 48)


def test_state_dict_and_registry():
    bank = MODELS.build(dict(type='CRDMemoryBank', num_samples=10,
                             feat_dim=3, momentum=0.2))
    assert isinstance(bank, CRDMemoryBank)
    assert set(bank.state_dict()) == {'memory_s', 'memory_t',
                                      'memory_labels'}
    assert 'momentum=0.2' in repr(bank)


def test_update_momentum_rule_last_occurrence_wins():
    torch.manual_seed(0)
    bank = make_bank(momentum=0.3)
    old_s, old_t = bank.memory_s.clone(), bank.memory_t.clone()
    s, t = unit(4, 4), unit(4, 4)
    # Image 3 at positions 0 and 2: position 2 is written.
    bank.update(torch.tensor([3, 8, 3, 0]), s, t)
    for old, new, memory in ((old_s, s, bank.memory_s),
                             (old_t, t, bank.memory_t)):
        for row, pos in ((3, 2), (8, 1), (0, 3)):
            mixed = 0.3 * old[row] + 0.7 * new[pos]
            assert torch.allclose(memory[row], mixed / mixed.norm(),
                                  atol=1e-6)
        others = [r for r in range(12) if r not in (0, 3, 8)]
        assert torch.equal(memory[others], old[others])


def test_update_keeps_a_row_whose_new_value_is_not_finite():
    bank = make_bank()
    old_s, old_t = bank.memory_s.clone(), bank.memory_t.clone()
    s, t = unit(3, 4), unit(3, 4)
    s[1, 0] = float('nan')
    t[2] = float('inf')
    bank.update(torch.tensor([4, 5, 6]), s, t)
    assert torch.equal(bank.memory_s[5], old_s[5])
    assert torch.equal(bank.memory_t[6], old_t[6])
    assert not torch.equal(bank.memory_s[4], old_s[4])
    assert not torch.equal(bank.memory_t[5], old_t[5])
    assert torch.isfinite(bank.memory_s).all()
    assert torch.isfinite(bank.memory_t).all()


def test_store_labels_last_occurrence_wins():
    bank = make_bank()
    bank.store_labels(torch.tensor([2, 5, 2]), torch.tensor([7, 1, 4]))
    expected = torch.full((12, ), -1)
    expected[2], expected[5] = 4, 1
    assert torch.equal(bank.memory_labels, expected)


def test_random_negatives_exclude_anchor_and_cover_the_rest():
    bank = make_bank(num_samples=6)
    gen = torch.Generator().manual_seed(0)
    idx = torch.tensor([0, 3, 5, 3])
    neg = torch.cat([bank.sample_negatives(idx, 5, generator=gen)
                     for _ in range(40)], 1)
    assert neg.shape == (4, 200) and neg.dtype == torch.long
    for i, anchor in enumerate(idx.tolist()):
        assert set(neg[i].tolist()) == set(range(6)) - {anchor}


def test_other_class_excludes_same_class_and_own_row():
    num = 20
    labels_all = torch.arange(num) % 4
    bank = make_bank(num_samples=num, neg_sampling='other_class')
    gen = torch.Generator().manual_seed(0)
    # Nothing stored yet: unseen rows are eligible, the anchors' own labels
    # count as stored (row 4 is anchor 0's classmate), the anchor's own row
    # never.
    idx = torch.tensor([0, 4, 1])
    neg = torch.cat([bank.sample_negatives(idx, 8, labels_all[idx],
                                           generator=gen)
                     for _ in range(50)], 1)
    assert set(neg[0].tolist()) == set(range(num)) - {0, 4}
    assert set(neg[2].tolist()) == set(range(num)) - {1}
    # Every label stored: a same-class row is never drawn.
    bank.store_labels(torch.arange(num), labels_all)
    for _ in range(20):
        neg = bank.sample_negatives(idx, 8, labels_all[idx], generator=gen)
        assert (labels_all[neg] != labels_all[idx][:, None]).all()
    with pytest.raises(ValueError, match='labels'):
        bank.sample_negatives(idx, 8)


def test_other_class_without_replacement():
    # 10 classes of 100 rows: 900 other-class rows for 850 negatives, so
    # that drawing with replacement would repeat rows in every anchor.
    bank, labels = known_labels_bank(1000, 10)
    gen = torch.Generator().manual_seed(0)
    idx = torch.tensor([0, 1, 57, 999, 500, 0])
    for _ in range(5):
        neg = bank.sample_negatives(idx, 850, labels[idx], generator=gen)
        assert neg.shape == (6, 850) and neg.dtype == torch.long
        assert (labels[neg] != labels[idx][:, None]).all()
        for row in neg:
            assert row.unique().numel() == 850
    # As many negatives as other-class rows: exactly those rows.
    bank, labels = known_labels_bank(40, 4)
    neg = bank.sample_negatives(torch.tensor([7]), 30, torch.tensor([3]),
                                generator=gen)
    assert sorted(neg[0].tolist()) == [i for i in range(40) if i % 4 != 3]


def test_other_class_draws_are_uniform_and_independent():
    bank, labels = known_labels_bank(60, 3)
    gen = torch.Generator().manual_seed(0)
    idx = torch.tensor([0, 0])
    counts = torch.zeros(60)
    draws = 3000
    same = 0
    for _ in range(draws):
        neg = bank.sample_negatives(idx, 20, labels[idx], generator=gen)
        counts += torch.bincount(neg[0], minlength=60)
        same += int(torch.equal(neg[0].sort().values, neg[1].sort().values))
    # Each of the 40 eligible rows is drawn with probability 20 / 40.
    eligible = labels != 0
    assert counts[~eligible].sum() == 0
    assert ((counts[eligible] / draws) - 0.5).abs().max() < 0.05
    # Two anchors get independent subsets, not one shared subset.
    assert same < 5


def test_other_class_falls_back_to_classmates_never_the_anchor():
    # 2 classes of 5 rows, 7 negatives > the 5 other-class rows.
    bank, _ = known_labels_bank(10, 2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        neg = bank.sample_negatives(torch.tensor([4]), 7, torch.tensor([0]),
                                    generator=gen)[0]
        assert neg.unique().numel() == 7
        assert {1, 3, 5, 7, 9} <= set(neg.tolist())
        assert 4 not in neg.tolist()


def test_gather_in_a_single_process_is_the_batch_itself():
    bank = make_bank()
    idx = torch.tensor([3, 1], dtype=torch.int32)
    s = unit(2, 4).bfloat16().requires_grad_(True)
    t = unit(2, 4).requires_grad_(True)
    batch = bank.gather(idx, s, t, labels=torch.tensor([0, 2]))
    assert batch.sample_idx.dtype == torch.long
    assert batch.sample_idx.tolist() == [3, 1]
    assert batch.labels.tolist() == [0, 2]
    assert batch.s_emb.dtype == torch.float32
    assert torch.equal(batch.s_emb, s.detach().float())
    assert torch.equal(batch.t_emb, t.detach())
    assert not batch.s_emb.requires_grad and not batch.t_emb.requires_grad
    assert bank.gather(idx, s, t).labels is None


def _gather_part(rank, world_size):
    torch.set_num_threads(1)
    idx = torch.tensor([10 * rank, 10 * rank + 1])
    emb = torch.full((2, 4), float(rank))
    return CRDMemoryBank(30, 4).gather(idx, emb, -emb, labels=idx % 3)


def test_gather_across_processes_in_rank_order():
    for batch in run_distributed(_gather_part, world_size=2):
        assert batch.sample_idx.tolist() == [0, 1, 10, 11]
        assert batch.labels.tolist() == [0, 1, 1, 2]
        assert batch.s_emb[:, 0].tolist() == [0., 0., 1., 1.]
        assert torch.equal(batch.t_emb, -batch.s_emb)


@pytest.mark.parametrize('score_all_rows', [None, True, False])
def test_scores_are_dot_products_with_the_candidate_rows(score_all_rows):
    torch.manual_seed(0)
    bank = make_bank()
    bank.score_all_rows = score_all_rows
    anchors = unit(3, 4)
    cand = torch.tensor([[2, 0, 5], [7, 7, 1], [11, 3, 4]])
    for which, memory in (('s', bank.memory_s), ('t', bank.memory_t)):
        expected = torch.einsum('bd,bcd->bc', anchors, memory[cand])
        for grad in (False, True):
            out = bank.scores(anchors.clone().requires_grad_(grad), cand,
                              which)
            assert out.shape == (3, 3) and out.dtype == torch.float32
            assert torch.allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize('score_all_rows', [True, False])
def test_scores_gradient_uses_the_bank_before_an_update(score_all_rows):
    torch.manual_seed(0)
    bank = make_bank()
    bank.score_all_rows = score_all_rows
    old = bank.memory_t.clone()
    anchors = unit(2, 4).requires_grad_(True)
    cand = torch.tensor([[1, 2, 3], [4, 5, 6]])
    weights = torch.randn(2, 3)
    out = bank.scores(anchors, cand, 't')
    bank.update(torch.arange(12), unit(12, 4), unit(12, 4))  # in place
    (out * weights).sum().backward()
    expected = torch.einsum('bc,bcd->bd', weights, old[cand])
    assert torch.allclose(anchors.grad, expected, atol=1e-6)


def test_dense_scores_recycle_their_copy_after_backward():
    bank = make_bank()
    bank.score_all_rows = True
    cand = torch.tensor([[1, 2, 3]])
    first = unit(1, 4).requires_grad_(True)
    bank.scores(first, cand, 's').sum().backward()
    free = bank._copies._free['memory_s']
    # Handed out again for the next call...
    second = bank.scores(unit(1, 4).requires_grad_(True), cand, 's')
    assert 'memory_s' not in bank._copies._free
    # ...and, while that graph holds it, a third call gets a new one.
    third = bank.scores(unit(1, 4).requires_grad_(True), cand, 's')
    second.sum().backward()
    assert bank._copies._free['memory_s'] is free
    third.sum().backward()
    assert bank._copies._free['memory_s'] is not free


def test_recycled_copies_follow_shape_and_dtype():
    pool = RecycledCopies()
    x = torch.randn(1, 3, requires_grad=True)
    bank = torch.randn(4, 3)
    copy = pool.copy_of('k', bank)
    pool.release_after_backward('k', copy, x @ copy.t()).sum().backward()
    assert pool.copy_of('k', bank.double()).dtype == torch.float64
    pool.release_after_backward('k', copy, x @ copy.t()).sum().backward()
    other = pool.copy_of('k', torch.randn(5, 3))
    assert other.shape == (5, 3) and other is not copy


def test_errors():
    with pytest.raises(ValueError, match='num_samples must be a positive'):
        CRDMemoryBank(num_samples=0)
    with pytest.raises(ValueError, match='feat_dim must be a positive'):
        CRDMemoryBank(num_samples=4, feat_dim=2.)
    with pytest.raises(ValueError, match='momentum'):
        CRDMemoryBank(num_samples=4, momentum=1.5)
    with pytest.raises(ValueError, match='neg_sampling'):
        CRDMemoryBank(num_samples=4, neg_sampling='hard')
    bank = make_bank()
    with pytest.raises(ValueError, match=r'num must be .*num_samples = 12'):
        bank.sample_negatives(torch.tensor([0]), 12)
    with pytest.raises(ValueError, match="'s' or 't'"):
        bank.scores(unit(1, 4), torch.tensor([[0, 1]]), 'memory_s')
