# PCKD (arXiv 2410.14143): resnet32x4 -> resnet8x4 on CIFAR-100, the authors'
# released objective (no KD term; alpha 1, beta 0.05, f 20, preview base
# 1.005), 240 epochs, 64 images (256 rotated views) per batch. Train the
# teacher first with configs/teachers/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/resnet32x4.py',
    '../_base_/models/cifar/resnet8x4.py',
    '../_base_/datasets/cifar100_rotation_views_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/pckd.py',
]

model = dict(
    student=_base_.resnet8x4,
    teacher=_base_.resnet32x4,
    teacher_ckpt='work_dirs/resnet32x4_1xb64_cifar100/epoch_240.pth',
)
