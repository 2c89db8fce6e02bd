# CIFAR-10 benchmark: resnet8 distilled from the resnet20 teacher
# (resnet20_1xb64_cifar10-jpeg.py) with DKD: CE + DKD (alpha 1, beta 8,
# temperature 4; no warm-up: 20 of 240 epochs is less than one of these
# 10) on the logits; subset and schedule of the student row.
_base_ = [
    '../_base_/models/cifar10/resnet20.py',
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/dkd.py',
]

model = dict(
    student=_base_.cifar10_resnet8,
    teacher=_base_.cifar10_resnet20,
    teacher_ckpt='work_dirs/resnet20_1xb64_cifar10-jpeg/epoch_3.pth',
    distill_losses=dict(dkd=dict(warmup_epochs=0)),
)
