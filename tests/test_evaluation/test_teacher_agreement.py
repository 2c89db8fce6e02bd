"""TeacherAgreement: values, DDP gathering, one teacher forward per batch."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

import mmkd_contrast  # noqa: F401
from mmkd_contrast.evaluation import TeacherAgreement
from mmkd_contrast.registry import METRICS

from dist_helpers import run_distributed

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KD = osp.join(ROOT, 'configs', 'quickstart',
              'kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py')


def samples(student_logits, teacher_logits):
    out = []
    for s, t in zip(student_logits, teacher_logits):
        sample = DataSample().set_pred_score(s.softmax(-1))
        sample.set_field(t, 'teacher_logits')
        out.append(sample)
    return out


def expected(student_logits, teacher_logits):
    agree = (student_logits.argmax(1) == teacher_logits.argmax(1)).float()
    kl = F.kl_div(student_logits.log_softmax(1),
                  teacher_logits.log_softmax(1), log_target=True,
                  reduction='none').sum(1)
    return 100 * agree.mean().item(), kl.mean().item()


def test_values_match_an_independent_computation():
    torch.manual_seed(0)
    s, t = torch.randn(6, 5), torch.randn(6, 5)
    t[:3] = s[:3] * 2  # three samples agree for sure
    metric = METRICS.build(dict(type='TeacherAgreement'))
    metric.process(None, samples(s, t))
    result = metric.evaluate(6)
    top1, kl = expected(s, t)
    assert result['teacher_agreement/top1'] == pytest.approx(top1)
    assert result['teacher_agreement/kl'] == pytest.approx(kl, rel=1e-5)
    assert top1 >= 50


def test_identical_predictions_agree_fully_with_zero_kl():
    s = torch.randn(4, 3)
    metric = TeacherAgreement()
    metric.process(None, samples(s, s.clone()))
    result = metric.evaluate(4)
    assert result['teacher_agreement/top1'] == 100
    assert result['teacher_agreement/kl'] == pytest.approx(0, abs=1e-6)


def test_predictions_without_teacher_logits_name_the_hook():
    sample = DataSample().set_pred_score(torch.rand(3))
    with pytest.raises(KeyError, match='TeacherLogitsHook'):
        TeacherAgreement().process(None, [sample])


def test_class_count_mismatch_names_both_shapes():
    sample = DataSample().set_pred_score(torch.rand(3))
    sample.set_field(torch.rand(4), 'teacher_logits')
    with pytest.raises(ValueError, match=r'\(3,\).*\(4,\)'):
        TeacherAgreement().process(None, [sample])


_N = 5  # odd: the distributed sampler pads rank 1 with sample 0


class _Indices(list):
    pass


def _evaluate_shard(rank, world_size, s, t):
    sampler = DefaultSampler(_Indices(range(_N)), shuffle=False)
    indices = list(sampler)
    metric = TeacherAgreement()
    for i in indices:
        metric.process(None, samples(s[i:i + 1], t[i:i + 1]))
    return indices, metric.evaluate(_N)


def test_ddp_gathering_drops_padded_samples():
    torch.manual_seed(1)
    s, t = torch.randn(_N, 4), torch.randn(_N, 4)
    # Sample 0 (the padding) disagrees; the others agree.
    t[1:] = s[1:]
    t[0] = -s[0]
    results = run_distributed(_evaluate_shard, 2, (s, t))
    shards = [indices for indices, _ in results]
    assert sorted(shards[0] + shards[1]) == [0, 0, 1, 2, 3, 4]
    top1, kl = expected(s, t)
    assert top1 == pytest.approx(80)
    for _, result in results:
        assert result['teacher_agreement/top1'] == pytest.approx(top1)
        assert result['teacher_agreement/kl'] == pytest.approx(kl, rel=1e-5)


def _runner(tmp_path, evaluator, model=None):
    cfg = Config.fromfile(KD)
    if model is None:
        # A teacher checkpoint of the seeded teacher's own weights.
        teacher = Runner.from_cfg(Config(dict(
            cfg.to_dict(), work_dir=str(tmp_path / 'build'),
            model=cfg.model.teacher))).model
        ckpt = str(tmp_path / 'teacher.pth')
        torch.save(dict(state_dict=teacher.state_dict()), ckpt)
        model = dict(cfg.model, teacher_ckpt=ckpt)
    cfg.merge_from_dict(dict(
        work_dir=str(tmp_path / 'run'),
        model=model,
        test_dataloader=dict(batch_size=40,
                             dataset=dict(indices=100)),
        test_evaluator=evaluator))
    cfg.model = model
    return Runner.from_cfg(cfg)


def test_runner_test_runs_the_teacher_once_per_batch_only_when_asked(
        tmp_path):
    runner = _runner(tmp_path, [
        dict(type='Accuracy', topk=(1, )),
        dict(type='mmkd_contrast.TeacherAgreement')
    ])
    model = runner.model
    calls = []
    model.teacher.register_forward_hook(lambda *a: calls.append(1))
    metrics = runner.test()
    assert len(calls) == 3  # 100 images in batches of 40
    assert model.predict_teacher_logits is False  # switched off after
    # The same numbers computed here from both networks' logits.
    s_all, t_all = [], []
    with torch.no_grad():
        for batch in runner.test_dataloader:
            data = model.data_preprocessor(batch, False)
            s_all.append(model.student(data['inputs'], mode='tensor'))
            t_all.append(model.teacher(data['inputs'], mode='tensor'))
    top1, kl = expected(torch.cat(s_all), torch.cat(t_all))
    assert metrics['teacher_agreement/top1'] == pytest.approx(top1)
    assert metrics['teacher_agreement/kl'] == pytest.approx(kl, rel=1e-4)
    assert 'accuracy/top1' in metrics

    # Accuracy alone: the teacher does not run at all.
    calls.clear()
    runner.test_loop.evaluator.metrics.pop()
    runner.test_loop.run()
    assert calls == []


def test_metric_on_a_plain_classifier_names_the_evaluator(tmp_path):
    cfg = Config.fromfile(KD)
    runner = _runner(tmp_path, [dict(type='mmkd_contrast.TeacherAgreement')],
                     model=cfg.model.student)
    with pytest.raises(TypeError, match='test_evaluator.*not a distiller'):
        runner.test()


def test_without_teacher_metrics_keeps_the_student_metrics():
    from mmkd_contrast.evaluation import without_teacher_metrics
    acc = dict(type='Accuracy', topk=(1, ))
    agree = dict(type='mmkd_contrast.TeacherAgreement')
    assert without_teacher_metrics([acc, agree]) == [acc]
    assert without_teacher_metrics(agree) == []
    assert without_teacher_metrics(acc) == acc
    assert without_teacher_metrics(dict(type='Evaluator', metrics=[
        agree, acc])) == dict(type='Evaluator', metrics=[acc])


def test_exported_student_config_drops_the_agreement_metric():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'export_student', osp.join(ROOT, 'tools', 'export_student.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = Config.fromfile(KD)
    cfg.val_evaluator = [dict(type='Accuracy', topk=(1, )),
                         dict(type='mmkd_contrast.TeacherAgreement')]
    cfg.test_evaluator = cfg.val_evaluator
    exported = tool.student_config(cfg)
    types = [m['type'] for m in exported.test_evaluator]
    assert types == ['Accuracy']
