"""Say which data folder a config expected when its dataset cannot load.

Without local data, mmpretrain's CIFAR datasets try to download (a bare
``URLError`` on a machine without network) or say "Cannot find"; a folder
dataset raises ``FileNotFoundError``. :func:`explain_missing_data` turns
these into a :class:`DataNotFoundError` that names, per dataloader, the
config key, the folder it expected and how to get the data.
"""
import contextlib
import os.path as osp
import urllib.error

__all__ = ['DataNotFoundError', 'missing_data', 'explain_missing_data']

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

# Dataset type: (folder its files live in under data_root, where to get it).
DOWNLOADS = {
    'CIFAR10': ('cifar-10-batches-py',
                'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'),
    'CIFAR100': ('cifar-100-python',
                 'https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz'),
}


class DataNotFoundError(FileNotFoundError):
    """A dataset of the config has no data where the config points."""


def _innermost(dataset):
    """The dataset config that names the folder (wrappers hold one under
    ``dataset``)."""
    while isinstance(dataset, dict) and 'data_root' not in dataset and \
            isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset


def missing_data(cfg, loaders=LOADERS):
    """One line per dataloader of ``cfg`` (among ``loaders``) whose data
    folder is missing.

    Returns:
        list[str]: The config key, the expected folder and how to get the
        data; empty when every folder named is there.
    """
    lines = []
    for key in loaders:
        loader = cfg.get(key, None)
        if not isinstance(loader, dict):
            continue
        dataset = _innermost(loader.get('dataset'))
        if not isinstance(dataset, dict) or not dataset.get('data_root'):
            continue
        root = dataset['data_root']
        kind = str(dataset.get('type', '')).split('.')[-1]
        folder, url = DOWNLOADS.get(kind, (None, None))
        expected = osp.join(root, folder) if folder else root
        if osp.isdir(expected):
            continue
        line = (f'{key}.dataset.data_root={root!r}: {osp.abspath(expected)}'
                ' does not exist')
        if url:
            line += (f'; get {url} and unpack it with '
                     f'"tar -xzf {osp.basename(url)} -C {root}"')
        else:
            line += '; put the data there'
        lines.append(line + f', or set {key}.dataset.data_root to your copy')
    return lines


def _from_a_dataset(err):
    """Whether ``err`` was raised while a dataset loaded or downloaded (a
    frame in a ``datasets``/``dataset`` package), not elsewhere in the run
    (a missing teacher checkpoint is a FileNotFoundError too)."""
    tb = err.__traceback__
    while tb is not None:
        parts = tb.tb_frame.f_code.co_filename.replace('\\', '/').split('/')
        if 'datasets' in parts or 'dataset' in parts:
            return True
        tb = tb.tb_next
    return False


@contextlib.contextmanager
def explain_missing_data(cfg, loaders=LOADERS):
    """Re-raise a dataset's loading error as :class:`DataNotFoundError`
    when a data folder of ``cfg`` (in one of ``loaders``, the dataloaders
    the run builds) is missing; other errors pass through."""
    try:
        yield
    except (urllib.error.URLError, RuntimeError, FileNotFoundError) as err:
        if isinstance(err, DataNotFoundError) or not _from_a_dataset(err):
            raise
        lines = missing_data(cfg, loaders)
        if not lines:
            raise
        raise DataNotFoundError(
            'the data of this config is not where it points (no data is '
            'downloaded here):\n  ' + '\n  '.join(lines) +
            f'\n(from: {type(err).__name__}: {err})') from err
