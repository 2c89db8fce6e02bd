# mobilenetv2 trained alone on CIFAR-100 with the 240-epoch KD-benchmark recipe
# (student baseline).
_base_ = [
    '../_base_/models/cifar/mobilenetv2_cifar.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
]

model = _base_.mobilenetv2_cifar

# Lightweight networks use lr 0.01 in the benchmark.
optim_wrapper = dict(optimizer=dict(lr=0.01))
