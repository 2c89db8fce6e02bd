"""mmkd_contrast: contrastive knowledge distillation for OpenMMLab."""
import importlib.util
import sys
import warnings

# mmcv-lite has no compiled ops; mmpretrain's import of mmcv's transformer
# bricks warns about one of them on every import. None of ours needs it.
warnings.filterwarnings(
    'ignore', message='Fail to import ``MultiScaleDeformableAttention``')

import mmcv  # noqa: E402
import mmengine  # noqa: E402
import mmpretrain  # noqa: E402

from .version import __version__, parse_version_info  # noqa: E402

# Ranges this release was tested with; outside them we warn, not assert.
_SUPPORTED = {
    'mmcv': (mmcv.__version__, '2.0.0', '2.3.0'),
    'mmengine': (mmengine.__version__, '0.10.0', '0.11.0'),
    'mmpretrain': (mmpretrain.__version__, '1.2.0', '1.3.0'),
}


def _check_versions(supported=_SUPPORTED):
    """Warn about each dependency whose version is outside its range."""
    for name, (found, low, high) in supported.items():
        version = parse_version_info(found)
        if not parse_version_info(low) <= version < parse_version_info(high):
            warnings.warn(
                f'mmkd_contrast {__version__} was tested with '
                f'{low} <= {name} < {high}, but {name}=={found} is installed; '
                'some features may not work.', UserWarning)


_check_versions()


def _set_aside_unimportable_mmdet():
    """Keep an installed mmdet that refuses this mmcv from breaking us.

    mmpretrain imports mmdet's ResNet when mmdet is installed and catches
    only ``ImportError``, while mmdet asserts its mmcv range (< 2.2.0) at
    import. When that assertion fails, ``sys.modules['mmdet'] = None`` makes
    every later ``import mmdet`` an ``ImportError``, which mmpretrain
    handles; mmdet itself was unusable in this environment anyway.
    """
    if 'mmdet' in sys.modules or importlib.util.find_spec('mmdet') is None:
        return
    try:
        import mmdet  # noqa: F401
    except AssertionError as err:
        sys.modules['mmdet'] = None
        warnings.warn(
            f'mmdet is installed but does not import with mmcv '
            f'{mmcv.__version__} ({err}); mmkd_contrast continues without '
            'it. Install mmcv 2.1 (full mmcv for mmdet.models) to use mmdet.',
            UserWarning)


_set_aside_unimportable_mmdet()

# Our registries fall back to mmpretrain's, which fill only when mmpretrain's
# modules are imported; make sure they are, whichever way we were imported.
from mmpretrain.utils import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

from .engine import (register_mmengine_safe_globals,  # noqa: E402
                     register_weights_only_loaders)

register_mmengine_safe_globals()
# Every checkpoint mmengine loads for us is weights-only, whatever
# TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD says.
register_weights_only_loaders()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__', 'register_mmengine_safe_globals']
