# CIFAR-10 benchmark: the tiny ViT student distilled from the resnet20
# teacher with KD (tau 4, weight 1): the reference of the LFCC row, which
# has the same teacher, student and KD term.
_base_ = [
    '../_base_/models/cifar10/resnet20.py',
    '../_base_/models/cifar10/vit_tiny_p4.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/kd.py',
]

model = dict(
    student=_base_.cifar10_vit_tiny_p4,
    teacher=_base_.cifar10_resnet20,
    teacher_ckpt='work_dirs/resnet20_1xb64_cifar10-jpeg/epoch_3.pth',
    student_taps=dict(logits='head.layers.head'),
)
