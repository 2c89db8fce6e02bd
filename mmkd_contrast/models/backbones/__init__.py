from .cifar_mobilenet_v2 import CIFARMobileNetV2
from .cifar_resnet import CIFARResNet
from .cifar_shufflenet_v1 import CIFARShuffleNetV1
from .cifar_shufflenet_v2 import CIFARShuffleNetV2
from .cifar_vgg import CIFARVGG
from .cifar_wide_resnet import CIFARWideResNet

__all__ = [
    'CIFARResNet', 'CIFARWideResNet', 'CIFARVGG', 'CIFARMobileNetV2',
    'CIFARShuffleNetV1', 'CIFARShuffleNetV2'
]
