# Quickstart step 1: train the teacher on the embedded MNIST subset.
_base_ = [
    '../_base_/models/mnist_resnet18_w16.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
]
model = _base_.mnist_resnet18_w16
