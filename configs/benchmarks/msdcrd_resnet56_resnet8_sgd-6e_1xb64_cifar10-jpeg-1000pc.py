# SGD CIFAR-10 benchmark: resnet8 distilled from the fine-tuned published
# resnet56 with MSDCRD: CE + L_MSD on the last-stage maps (both 64
# channels, 8x8, so no channel aligner), decoupled at scales 1, 2 and 4.
_base_ = [
    '../_base_/models/cifar10/resnet_zero_pad.py',
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_1000pc_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.cifar10_resnet8,
    teacher=_base_.cifar10_resnet56_zero_pad,
    teacher_ckpt='work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth',
)
