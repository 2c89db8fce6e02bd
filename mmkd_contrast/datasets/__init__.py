from .embedded_mnist import EmbeddedMNIST
from .transforms import *  # noqa: F401,F403

__all__ = ['EmbeddedMNIST']
