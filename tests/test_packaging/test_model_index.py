"""model-index.yml and the per-method metafiles, in mmpretrain's format."""
import glob
import os.path as osp

from modelindex.load_model_index import load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHODS = ('kd', 'crd', 'msdcrd', 'pckd', 'lfcc')


def index():
    return load(osp.join(ROOT, 'model-index.yml'))


def test_every_method_config_is_indexed_and_every_entry_exists():
    models = index().models
    listed = {m.config for m in models}
    for method in METHODS:
        for path in glob.glob(osp.join(ROOT, 'configs', method, '*.py')):
            assert osp.relpath(path, ROOT) in listed, path
        assert osp.isfile(osp.join(ROOT, 'configs', method, 'README.md'))
    for model in models:
        assert osp.isfile(osp.join(ROOT, model.config)), model.config
        assert model.name == osp.splitext(osp.basename(model.config))[0]
        readme = model.in_collection and [
            c for c in index().collections if c.name == model.in_collection
        ][0].readme
        assert osp.isfile(osp.join(ROOT, readme))


def test_config_file_names_are_unique():
    # mim train / mim test find a config by its file name.
    names = [osp.basename(p) for p in glob.glob(
        osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p]
    assert len(names) == len(set(names))


def test_results_are_the_measured_ones_of_the_docs():
    """CIFAR-10 benchmark configs: the mean of docs/benchmarks.md's table;
    quickstart configs: the README's quickstart table (one run each)."""
    with open(osp.join(ROOT, 'docs', 'benchmarks.md'), encoding='utf-8') as f:
        doc = f.read()
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    measured = [m for m in index().models if m.results]
    assert {m.config.split('/')[1] for m in measured} == {'benchmarks',
                                                          'quickstart'}
    for model in measured:
        for result in model.results:
            top1 = result.metrics['Top 1 Accuracy']
            if model.config.startswith('configs/benchmarks/'):
                assert f'| {top1:.2f} ± ' in doc, (model.name, top1)
            else:
                assert f'|     {top1:.2f} |' in readme, (model.name, top1)
