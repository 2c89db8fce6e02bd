from .embedded_mnist import EmbeddedMNIST
from .per_class_subset import PerClassSubset
from .transforms import *  # noqa: F401,F403

__all__ = ['EmbeddedMNIST', 'PerClassSubset']
