# DKD (Zhao et al. 2022): resnet32x4 -> resnet8x4 on CIFAR-100 with the
# paper's settings: CE weight 1, alpha 1, beta 8, temperature 4, 20 warm-up
# epochs. Train the
# teacher first with configs/teachers/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/resnet32x4.py',
    '../_base_/models/cifar/resnet8x4.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/dkd.py',
]

model = dict(
    student=_base_.resnet8x4,
    teacher=_base_.resnet32x4,
    teacher_ckpt='work_dirs/resnet32x4_1xb64_cifar100/epoch_240.pth',
)
