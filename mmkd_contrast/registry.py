"""Registries of mmkd_contrast.

Every registry is a child of the mmpretrain registry of the same name, with
scope ``mmkd_contrast``. Looking a name up in a child falls back to its
parent, so inside a model built in this scope an unscoped
``type='ImageClassifier'`` still resolves to mmpretrain's class, and with
``default_scope='mmkd_contrast'`` the whole Runner (datasets, metrics, hooks,
optimizers) is found through the parents.

``locations`` lets mmengine import the modules that fill a registry the first
time a name is looked up, so configs work without importing the package
first.

Each registry is also listed among the children of mmengine's root registry
of its kind. mmengine resolves a scoped name (``mmkd_contrast.KDLoss``) from
another package's registry (mmseg's, mmdet's, the root's) only by looking
among the root's direct children; being a grandchild through mmpretrain
would leave the plugin's names unresolvable under ``default_scope='mmseg'``,
``'mmdet'`` or no default scope.
"""
from mmengine.registry import Registry
from mmpretrain.registry import DATA_SAMPLERS as MMPRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS
from mmpretrain.registry import EVALUATORS as MMPRETRAIN_EVALUATORS
from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as MMPRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRETRAIN_LOOPS
from mmpretrain.registry import METRICS as MMPRETRAIN_METRICS
from mmpretrain.registry import MODEL_WRAPPERS as MMPRETRAIN_MODEL_WRAPPERS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import \
    RUNNER_CONSTRUCTORS as MMPRETRAIN_RUNNER_CONSTRUCTORS
from mmpretrain.registry import RUNNERS as MMPRETRAIN_RUNNERS
from mmpretrain.registry import TASK_UTILS as MMPRETRAIN_TASK_UTILS
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRETRAIN_VISUALIZERS
from mmpretrain.registry import \
    WEIGHT_INITIALIZERS as MMPRETRAIN_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]

SCOPE = 'mmkd_contrast'


def _child(name, parent, locations):
    registry = Registry(name, parent=parent, scope=SCOPE, locations=locations)
    # Lookup only: the parent stays mmpretrain's registry.
    parent.root.children.setdefault(SCOPE, registry)
    return registry


# engine
RUNNERS = _child('runner', MMPRETRAIN_RUNNERS, ['mmkd_contrast.engine'])
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             MMPRETRAIN_RUNNER_CONSTRUCTORS,
                             ['mmkd_contrast.engine'])
LOOPS = _child('loop', MMPRETRAIN_LOOPS, ['mmkd_contrast.engine'])
HOOKS = _child('hook', MMPRETRAIN_HOOKS, ['mmkd_contrast.engine'])
LOG_PROCESSORS = _child('log_processor', MMPRETRAIN_LOG_PROCESSORS,
                        ['mmkd_contrast.engine'])
OPTIMIZERS = _child('optimizer', MMPRETRAIN_OPTIMIZERS,
                    ['mmkd_contrast.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMPRETRAIN_OPTIM_WRAPPERS,
                        ['mmkd_contrast.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['mmkd_contrast.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMPRETRAIN_PARAM_SCHEDULERS,
                          ['mmkd_contrast.engine'])

# datasets
DATASETS = _child('dataset', MMPRETRAIN_DATASETS, ['mmkd_contrast.datasets'])
DATA_SAMPLERS = _child('data sampler', MMPRETRAIN_DATA_SAMPLERS,
                       ['mmkd_contrast.datasets'])
TRANSFORMS = _child('transform', MMPRETRAIN_TRANSFORMS,
                    ['mmkd_contrast.datasets'])

# models
MODELS = _child('model', MMPRETRAIN_MODELS, ['mmkd_contrast.models'])
MODEL_WRAPPERS = _child('model_wrapper', MMPRETRAIN_MODEL_WRAPPERS,
                        ['mmkd_contrast.models'])
WEIGHT_INITIALIZERS = _child('weight initializer',
                             MMPRETRAIN_WEIGHT_INITIALIZERS,
                             ['mmkd_contrast.models'])
TASK_UTILS = _child('task util', MMPRETRAIN_TASK_UTILS,
                    ['mmkd_contrast.models'])

# evaluation and visualization
METRICS = _child('metric', MMPRETRAIN_METRICS, ['mmkd_contrast'])
EVALUATORS = _child('evaluator', MMPRETRAIN_EVALUATORS,
                    ['mmkd_contrast'])
VISUALIZERS = _child('visualizer', MMPRETRAIN_VISUALIZERS,
                     ['mmkd_contrast'])
VISBACKENDS = _child('vis_backend', MMPRETRAIN_VISBACKENDS,
                     ['mmkd_contrast'])
