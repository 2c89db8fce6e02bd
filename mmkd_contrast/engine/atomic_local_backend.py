"""A local file backend whose writes are atomic: write, then rename."""
import os
import os.path as osp
import tempfile

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['AtomicLocalBackend', 'atomic_write']

#: The name to pass as ``backend_args=dict(backend=...)``.
BACKEND_NAME = 'mmkd_contrast_atomic_local'


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(data, filepath):
    """Write ``data`` to ``filepath`` so that it is never seen half written.

    The bytes (or text, written as UTF-8) go to a temporary file in the same
    directory, are flushed to disk, and the file is renamed over
    ``filepath`` with ``os.replace``, which is atomic on POSIX and Windows.
    A kill at any moment leaves either the previous file or the new one; a
    leftover ``.tmp`` file is harmless. A failed write (a full disk)
    removes the temporary file and raises an ``OSError`` with the same
    ``errno`` that names ``filepath``.

    Args:
        data (bytes | str): The content.
        filepath (str): The destination.
    """
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf-8')
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(filepath)}.', suffix='.tmp', dir=directory)
    try:
        # mkstemp creates the file private (0600); give it the mode a plain
        # open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno is not None:
            # e.g. a full disk: say which file, and that nothing was lost.
            raise OSError(
                err.errno, f'{err.strerror}: could not write {filepath} '
                '(no file was replaced: one of that name, if any, is '
                'unchanged)') from err
        raise


@register_backend(BACKEND_NAME)
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` with atomic ``put`` and ``put_text``.

    mmengine's ``save_checkpoint`` serialises the checkpoint in memory and
    hands the bytes to the file backend's ``put``; with this backend they
    land through :func:`atomic_write`, so a run killed while saving leaves
    the previous checkpoint intact and no truncated file under the final
    name.
    """

    def put(self, obj, filepath):
        atomic_write(obj, filepath)

    def put_text(self, obj, filepath, encoding='utf-8'):
        atomic_write(obj.encode(encoding), filepath)
