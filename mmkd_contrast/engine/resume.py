"""Find the checkpoint ``--resume`` continues from, and say why."""
import glob
import os.path as osp
import re
import zipfile

__all__ = ['find_resume_checkpoint', 'read_last_checkpoint']

#: The file in a work dir that names the newest checkpoint (written by the
#: checkpoint hook, followed by ``--resume``).
LAST_CHECKPOINT = 'last_checkpoint'

_NUMBERED = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def _complete(path):
    """Whether ``path`` is a whole checkpoint file (torch's zip format
    keeps its index at the end, so a truncated write has none)."""
    try:
        return osp.getsize(path) > 0 and zipfile.is_zipfile(path)
    except OSError:
        return False


def _numbered_checkpoints(work_dir):
    """``epoch_N.pth`` and ``iter_N.pth`` of ``work_dir``, newest first."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), '*.pth')):
        match = _NUMBERED.match(osp.basename(path))
        if match:
            found.append((int(match.group(2)), osp.getmtime(path), path))
    return [path for _, _, path in sorted(found, reverse=True)]


def read_last_checkpoint(work_dir):
    """What ``work_dir/last_checkpoint`` names, as written.

    The one reader of that file in the package (mmengine's own,
    ``find_latest_checkpoint``, logs when it is missing).

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str | None: The path it names (``''`` for an empty file), or None
        when there is no readable file.
    """
    try:
        with open(osp.join(work_dir, LAST_CHECKPOINT)) as f:
            return f.read().strip()
    except OSError:
        return None


def find_resume_checkpoint(work_dir):
    """The checkpoint to resume from in ``work_dir``.

    ``last_checkpoint`` (written by the checkpoint hook) names it by its
    absolute path. When that path is gone but ``work_dir`` holds a complete
    file of the same name (the work dir was moved or copied), that file is
    used. When ``last_checkpoint`` is missing, empty, or names a file that
    is gone or incomplete, the newest complete ``epoch_N.pth`` /
    ``iter_N.pth`` of the work dir is used instead.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        tuple[str | None, list[tuple[str, str]]]: The checkpoint (None: start
        from scratch) and ``(level, message)`` pairs for the log, level
        ``'info'`` or ``'warning'``.
    """
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    problem = None
    named = read_last_checkpoint(work_dir)
    if named is not None:
        if not named:
            problem = f'{pointer} is empty'
        elif not osp.isfile(named):
            here = osp.join(work_dir, osp.basename(named))
            if osp.basename(named) and osp.isfile(here) and \
                    _complete(here):
                # The work dir was moved or copied: the pointer holds the
                # old absolute path of a file that is here.
                return here, [('warning', f'--resume: {pointer} names '
                               f'{named}, which does not exist; the work '
                               'dir was moved or copied, so resuming from '
                               f'the file of that name here, {here}')]
            problem = f'{pointer} names {named}, which does not exist'
        elif not _complete(named):
            problem = f'{pointer} names {named}, which is not a complete ' \
                'checkpoint'
        else:
            return named, [('info', f'--resume: resuming from {named} '
                            f'(named by {pointer})')]
    for path in _numbered_checkpoints(work_dir):
        if _complete(path):
            reason = problem or f'there is no {pointer}'
            return path, [('warning',
                           f'--resume: {reason}; resuming from the newest '
                           f'complete checkpoint of the work dir, {path}')]
    reason = f'{problem}, and' if problem else 'there is no last_checkpoint'\
        ' and'
    return None, [('warning', f'--resume: {reason} no complete epoch_*.pth '
                   f'or iter_*.pth in {work_dir}: there is nothing to '
                   'resume, training starts from scratch')]
