# CIFAR-10 benchmark, the reference row: resnet8 trained alone on the
# class-balanced subset (500 images per class of the JPEG copy), the
# benchmark's 10-epoch AdamW schedule, tested on all 10,000 test images.
_base_ = [
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_resnet8
