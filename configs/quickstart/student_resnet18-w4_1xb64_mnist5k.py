# Quickstart step 2: the student trained alone (the baseline).
_base_ = [
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
]
model = _base_.mnist_resnet18_w4
