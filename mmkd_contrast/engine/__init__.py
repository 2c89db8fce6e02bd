from .hooks import *  # noqa: F401,F403
from .optimizers import *  # noqa: F401,F403
from .safe_globals import register_mmengine_safe_globals

__all__ = ['register_mmengine_safe_globals']
