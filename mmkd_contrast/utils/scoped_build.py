"""Build a model config in the scope of the package it names."""
from importlib import import_module

from mmengine.registry import DefaultScope

from mmkd_contrast.registry import MODELS
from mmkd_contrast.type_names import suggest_type_names

# Scopes whose nested unscoped types resolve in ours (which falls back to
# mmpretrain's registry), so that an ``mmpretrain.ImageClassifier`` may hold
# this project's CIFAR backbones.
OWN_SCOPES = ('mmkd_contrast', 'mmpretrain')


def package_scope(cfg, default='mmkd_contrast'):
    """The scope in which config ``cfg`` builds.

    A type that names another package (``mmseg.EncoderDecoder``,
    ``mmdet.RetinaNet``) builds in that package's scope, so that its nested
    unscoped types (``ResNetV1c``, ``FCNHead``, ``SegDataPreProcessor``)
    resolve in that package's registries and not in ours or mmpretrain's.
    Anything else builds in ``default``.

    Args:
        cfg (dict): A model config.
        default (str): The scope of a type that names no other package.

    Returns:
        str: A scope name.
    """
    kind = cfg.get('type') if isinstance(cfg, dict) else None
    if not isinstance(kind, str) or '.' not in kind:
        return default
    scope = kind.split('.', 1)[0]
    if scope in OWN_SCOPES:
        return default
    try:
        import_module(f'{scope}.registry')
    except ImportError:
        return default
    return scope if MODELS.root._search_child(scope) is not None else default


def build_in_scope(cfg, default='mmkd_contrast'):
    """Build model config ``cfg`` in its package's scope.

    See :func:`package_scope`: ``mmkd_contrast`` (``default``) unless the
    type names another package, so that nested unscoped types (an
    ``ImageClassifier`` whose backbone is a ``CIFARResNet``) resolve here
    first, then in mmpretrain. An unknown type raises
    :class:`~mmkd_contrast.type_names.UnknownTypeError` with the closest
    registered names.
    """
    with suggest_type_names(), \
            DefaultScope.overwrite_default_scope(package_scope(cfg, default)):
        return MODELS.build(cfg)
