from .rotation_views import RotationViews

__all__ = ['RotationViews']
