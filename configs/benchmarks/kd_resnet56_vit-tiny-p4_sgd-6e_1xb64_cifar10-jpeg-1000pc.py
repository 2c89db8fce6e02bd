# SGD CIFAR-10 benchmark: the tiny ViT distilled from the fine-tuned
# published resnet56 with KD (tau 4, weight 1), LFCC's KD reference; SGD
# lr 0.01 as every ViT row.
_base_ = [
    '../_base_/models/cifar10/resnet_zero_pad.py',
    '../_base_/models/cifar10/vit_tiny_p4.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_1000pc_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/kd.py',
]

model = dict(
    student=_base_.cifar10_vit_tiny_p4,
    teacher=_base_.cifar10_resnet56_zero_pad,
    teacher_ckpt='work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth',
    student_taps=dict(logits='head.layers.head'),
)
optim_wrapper = dict(optimizer=dict(lr=0.01))
