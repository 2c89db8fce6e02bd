"""Every code snippet of README.md and docs/*.md.

The rule (also in DEVELOPERS.md):

* A fenced block whose info string starts with ``python`` is a snippet. The
  snippets of one file run in order in one namespace, in a temporary
  working directory.
* A snippet whose first line is ``# not run: <reason>`` (a config fragment,
  one that needs a dataset or a long training) is only compiled, and is
  reported as skipped with that reason.
* Indented blocks and fences of other languages (``bash``, ``text``) are
  shell commands, formulas or output; they are not run, but every path
  under ``configs/``, ``tools/`` or ``benchmarks/`` that a doc mentions
  must exist.
"""
import glob
import os
import os.path as osp
import re

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOCS = [osp.join(ROOT, 'README.md'), osp.join(ROOT, 'DEVELOPERS.md')] + \
    sorted(glob.glob(osp.join(ROOT, 'docs', '*.md')))
FENCE = re.compile(r'^```(\S*)[^\n]*\n(.*?)^```\s*$', re.M | re.S)
NOT_RUN = re.compile(r'#\s*not run:\s*(\S.*)')
PATH = re.compile(r'(?<![\w./<-])((?:configs|tools|benchmarks)/[\w./-]*'
                  r'\.(?:py|sh))(?![\w<])')


def snippets():
    found = []
    for doc in DOCS:
        with open(doc, encoding='utf-8') as f:
            text = f.read()
        for match in FENCE.finditer(text):
            if not match.group(1).startswith('python'):
                continue
            code = match.group(2)
            line = text.count('\n', 0, match.start()) + 2
            first = code.lstrip().splitlines()[0] if code.strip() else ''
            reason = NOT_RUN.match(first)
            found.append(
                pytest.param(doc, line, code,
                             reason.group(1) if reason else None,
                             id=f'{osp.relpath(doc, ROOT)}:{line}'))
    return found


_NAMESPACES = {}


@pytest.mark.parametrize('doc,line,code,skip_reason', snippets())
def test_snippet(doc, line, code, skip_reason, tmp_path, monkeypatch):
    where = f'{osp.relpath(doc, ROOT)}, line {line}'
    compiled = compile(code, where, 'exec')
    if skip_reason:
        pytest.skip(f'{where}: {skip_reason}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(ROOT)
    namespace = _NAMESPACES.setdefault(doc, {'__name__': '__doc_snippet__'})
    exec(compiled, namespace)


def test_there_are_snippets_to_run():
    runnable = [p for p in snippets() if p.values[3] is None]
    assert len(runnable) >= 3, 'the extraction rule found nothing to run'


@pytest.mark.parametrize('doc', DOCS, ids=lambda d: osp.relpath(d, ROOT))
def test_mentioned_paths_exist(doc):
    with open(doc, encoding='utf-8') as f:
        text = f.read()
    missing = sorted({
        p for p in PATH.findall(text) if not osp.exists(osp.join(ROOT, p))
    })
    assert not missing, f'{osp.relpath(doc, ROOT)} mentions missing ' \
        f'files: {missing}'


def test_the_documented_registry_routes():
    """mmengine's root registry does not reach grandchildren; the README
    says so and documents the two routes that work."""
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

    from mmkd_contrast.registry import MODELS
    with pytest.raises(KeyError):
        ROOT_MODELS.build(dict(type='mmkd_contrast.LFCCLoss'))
    assert type(MODELS.build(dict(type='LFCCLoss'))).__name__ == 'LFCCLoss'
    assert type(MMPRETRAIN_MODELS.build(
        dict(type='mmkd_contrast.LFCCLoss'))).__name__ == 'LFCCLoss'
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    assert 'from mmkd_contrast.registry import MODELS' in readme


def test_the_rule_is_documented():
    with open(osp.join(ROOT, 'DEVELOPERS.md'), encoding='utf-8') as f:
        assert '# not run:' in f.read()
    assert os.path.basename(__file__) == 'test_docs.py'
