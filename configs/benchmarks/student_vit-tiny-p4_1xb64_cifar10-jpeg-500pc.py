# CIFAR-10 benchmark, the reference of the LFCC rows: a tiny ViT (4x4
# patches, 96 channels, 4 blocks) trained alone on the class-balanced
# subset (500 images per class), the benchmark's 10-epoch AdamW schedule.
# It is the student of the CNN -> ViT pair that LFCC (a method for
# teacher/student pairs of different architectures) is measured on.
_base_ = [
    '../_base_/models/cifar10/vit_tiny_p4.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_vit_tiny_p4
