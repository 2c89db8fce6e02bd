# resnet56 trained alone on CIFAR-100 with the 240-epoch KD-benchmark recipe
# (teacher).
_base_ = [
    '../_base_/models/cifar/resnet56.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet56
