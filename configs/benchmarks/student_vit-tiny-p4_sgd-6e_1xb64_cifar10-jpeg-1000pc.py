# SGD CIFAR-10 benchmark, LFCC's reference row: the tiny ViT (4x4 patches,
# 96-d, 4 blocks) trained alone from scratch with the benchmark's subset
# and schedule, except the learning rate: 0.01 instead of 0.05, as the
# CRD-lineage code uses for its small-capacity (ViT/MLP-like) students. The
# three ViT rows (alone, KD, LFCC) all use 0.01.
_base_ = [
    '../_base_/models/cifar10/vit_tiny_p4.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_1000pc_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_vit_tiny_p4
optim_wrapper = dict(optimizer=dict(lr=0.01))
