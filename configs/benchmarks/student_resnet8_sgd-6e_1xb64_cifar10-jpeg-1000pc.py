# SGD CIFAR-10 benchmark (benchmarks/accuracy_cifar10_sgd.py), the
# reference row: resnet8 trained alone from scratch on 1,000 images per
# class of the JPEG copy (ImageNet normalisation, as every row of this
# benchmark), SGD lr 0.05 with cosine decay over 6 epochs, tested on all
# 10,000 test images.
_base_ = [
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_1000pc_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_resnet8
