"""Catch a checkpoint whose bytes changed after it was written.

``torch.load`` does not verify the CRC-32 checksums that its zip format
stores for every record: a checkpoint with flipped or overwritten bytes in
a tensor loads without an error, with wrong weights. Two checks are cheap
enough to run on every load (one read of the file):

* every record's CRC-32 (what ``zipfile``'s ``testzip`` computes);
* for a file named the way OpenMMLab and ``torch.hub`` publish checkpoints,
  ``<name>-<first hex digits of its sha256>.pth``, that prefix.
"""
import hashlib
import re
import zipfile

from .checkpoint_loading import CheckpointError

__all__ = ['CheckpointCorruptError', 'check_integrity', 'sha256_prefix']

#: ``name-<8 to 64 hex digits>.pth``: the published-checkpoint convention.
_HASHED_NAME = re.compile(r'-([0-9a-f]{8,64})\.pth$')


class CheckpointCorruptError(CheckpointError):
    """A checkpoint's bytes differ from those it was written with."""


def sha256_prefix(filename):
    """The hex sha256 digest ``filename``'s name promises, or None."""
    match = _HASHED_NAME.search(str(filename))
    return match.group(1) if match else None


def check_integrity(filename):
    """Check a checkpoint's stored checksums before it is loaded.

    Args:
        filename (str): A local checkpoint file.

    Raises:
        CheckpointCorruptError: A record's CRC-32 does not match its data,
            or the file's sha256 does not start with the prefix in its
            name. The message names the file.
    """
    promised = sha256_prefix(filename)
    if promised is not None:
        digest = hashlib.sha256()
        with open(filename, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
        actual = digest.hexdigest()
        if not actual.startswith(promised):
            raise CheckpointCorruptError(
                f'{filename}: its sha256 is {actual[:len(promised)]}..., '
                f'but its name promises {promised}: the download or copy '
                'is damaged, or the file was changed after it was '
                'published. Fetch it again (or rename a file that is not '
                'a published checkpoint).')
    if not zipfile.is_zipfile(filename):
        return  # a legacy (non-zip) torch file has no checksums to check
    try:
        with zipfile.ZipFile(filename) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointCorruptError(
            f'{filename}: its archive cannot be read ({err}): the file was '
            'damaged after it was written') from err
    if bad is not None:
        raise CheckpointCorruptError(
            f'{filename}: record {bad} does not match the CRC-32 stored '
            'when the file was written: the file changed on disk (a bad '
            'disk or copy, or an edit). Loading it would give wrong '
            'weights without an error; use another copy or an earlier '
            'checkpoint.')
