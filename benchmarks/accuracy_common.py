"""What the accuracy benchmarks share: training one config with
``tools/train.py`` in a subprocess and reading its last top-1 (and, for a
distilled student, its agreement with the teacher), teachers trained once
and cached by their resolved config, the stamp that ties a student run to
its teacher, and formatting."""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
TEACHER_SEED = 0


def select_seeds(quick, seeds=None, all_seeds=(0, 1, 2)):
    """The seeds of a protocol: ``seeds`` if given, else seed 0 alone
    with ``quick``, else ``all_seeds``."""
    if seeds:
        return tuple(seeds)
    return (0, ) if quick else tuple(all_seeds)


def slug(name):
    return ''.join(c if c.isalnum() else '_' for c in name.lower())


def last_top1(work_dir):
    """Top-1 of the last validation of the newest run in ``work_dir``."""
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise RuntimeError(f'no scalars.json under {work_dir}')
    top1 = None
    with open(logs[-1]) as f:
        for line in f:
            record = json.loads(line)
            if 'accuracy/top1' in record:
                top1 = record['accuracy/top1']
    if top1 is None:
        raise RuntimeError(f'no accuracy/top1 in {logs[-1]}')
    return top1


def last_agreement(work_dir):
    """``dict(agreement, kl)`` of the last validation of the newest run in
    ``work_dir`` that logged the teacher agreement, else ``{}``."""
    logs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    found = {}
    for line in open(logs[-1]) if logs else []:
        record = json.loads(line)
        if 'teacher_agreement/top1' in record:
            found = dict(agreement=record['teacher_agreement/top1'],
                         kl=record['teacher_agreement/kl'])
    return found


def agreement_config(config, work_dir):
    """Write ``<work_dir>/with_teacher_agreement.py``: ``configs/<config>``
    with ``TeacherAgreement`` next to ``Accuracy`` in its evaluators (one
    teacher forward per validation batch); return its path."""
    path = osp.join(work_dir, 'with_teacher_agreement.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.join(CONFIGS, config)!r}]\n'
                "val_evaluator = [dict(type='Accuracy', topk=(1, )),\n"
                "                 dict(type='mmkd_contrast.TeacherAgreement')]"
                '\ntest_evaluator = val_evaluator\n')
    return path


def train(config, work_dir, options, threads, agreement=False):
    """Run ``tools/train.py`` on ``configs/<config>``; return
    ``(top-1, wall seconds, CPU seconds)``. The run's output goes to
    ``train.log`` in ``work_dir``. With ``agreement`` (a distiller config)
    the validation also logs the student's agreement with its teacher
    (:func:`last_agreement` reads it)."""
    if osp.isdir(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    config_file = agreement_config(config, work_dir) if agreement \
        else osp.join(CONFIGS, config)
    cmd = [
        sys.executable, osp.join(ROOT, 'tools', 'train.py'), config_file,
        '--work-dir', work_dir, '--cfg-options', *options
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    start = time.time()
    with open(osp.join(work_dir, 'train.log'), 'w') as log:
        log.write(' '.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        # wait4 gives this child's own CPU time, also with --jobs > 1.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.time() - start
    cpu_seconds = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        with open(osp.join(work_dir, 'train.log')) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'training failed ({proc.returncode}): '
                           f'{" ".join(cmd)}\n{tail}')
    return last_top1(work_dir), seconds, cpu_seconds


def config_digest(config):
    """SHA-1 of the resolved ``configs/<config>`` (bases included), so
    that a cached teacher is retrained when its config changes."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIGS, config)).to_dict()
    text = json.dumps(cfg, sort_keys=True, default=repr)
    return hashlib.sha1(text.encode()).hexdigest()


def ensure_teacher(teacher, teacher_dir, threads, seed=TEACHER_SEED,
                   options=()):
    """Train ``teacher`` once; return ``(checkpoint, top-1)``. A teacher
    whose ``teacher.json`` and checkpoint exist, trained from the same
    resolved config, is reused.

    Args:
        teacher (namedtuple): Has ``key`` (its folder under
            ``teacher_dir``), ``label`` and ``config`` (under ``configs/``).
        teacher_dir (str): Where teachers are trained and cached.
        threads (int): Torch threads of the training process.
        seed (int): ``randomness.seed`` of the teacher's run.
        options (Sequence[str]): More ``--cfg-options`` (e.g. data loader
            workers); they do not change what is trained.
    """
    work_dir = osp.abspath(osp.join(teacher_dir, teacher.key))
    record_file = osp.join(work_dir, 'teacher.json')
    digest = config_digest(teacher.config)
    if osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
        if osp.isfile(record['checkpoint']) and record.get(
                'config_sha1') == digest:
            print(f'==> teacher {teacher.label}: reusing '
                  f'{record["checkpoint"]} (top-1 {record["top1"]:.2f})',
                  flush=True)
            return record['checkpoint'], record['top1']
    print(f'==> teacher {teacher.label}: training {teacher.config}',
          flush=True)
    top1, seconds, cpu_seconds = train(
        teacher.config, work_dir, [f'randomness.seed={seed}', *options],
        threads)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    record = dict(config=teacher.config, config_sha1=digest,
                  checkpoint=checkpoint, top1=top1, seconds=seconds,
                  cpu_seconds=cpu_seconds)
    with open(record_file, 'w') as f:
        json.dump(record, f, indent=1)
    print(f'    teacher {teacher.label}: top-1 {top1:.2f} ({seconds:.0f} s, '
          f'CPU {cpu_seconds:.0f} s)', flush=True)
    return checkpoint, top1


def agreement_table(results, methods):
    """Mean teacher agreement and KL of each row that logged them.

    Args:
        results (list[dict]): Run records; those with ``agreement`` count.
        methods (list[str]): Row names in table order.

    Returns:
        str: A Markdown table (empty string when no run logged them).
    """
    by_method = {}
    for run in results:
        if run.get('agreement') is not None:
            by_method.setdefault(run['method'], []).append(run)
    if not by_method:
        return ''
    lines = ['| method | top-1 agreement with the teacher (%), mean | '
             'KL(teacher ‖ student), mean | runs |', '|---|---|---|---|']
    for name in methods:
        runs = by_method.get(name)
        if runs:
            lines.append('| {} | {:.2f} | {:.4f} | {} |'.format(
                name, sum(r['agreement'] for r in runs) / len(runs),
                sum(r['kl'] for r in runs) / len(runs), len(runs)))
    return '\n'.join(lines) + '\n'


def format_mean_std(mean, std):
    return f'{mean:.2f}' if std is None else f'{mean:.2f} ± {std:.2f}'


def teacher_stamp(teacher_ckpt):
    """``'<checkpoint>@<mtime>'``: a finished run is reused only with the
    very teacher it was distilled from, however its path is spelled (the
    path is made absolute)."""
    if teacher_ckpt is None:
        return None
    path = osp.realpath(teacher_ckpt)
    return f'{path}@{osp.getmtime(path):.0f}'
