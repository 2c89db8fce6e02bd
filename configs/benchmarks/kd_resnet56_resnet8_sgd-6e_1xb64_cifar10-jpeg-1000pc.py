# SGD CIFAR-10 benchmark: resnet8 distilled from the published resnet56
# fine-tuned on the JPEG copy (configs/teachers/
# resnet56_cifar10-pre_ft-1e_1xb64_cifar10-jpeg.py) with KD: CE + KD (tau 4,
# weight 1) on the logits; subset and schedule of the student row.
_base_ = [
    '../_base_/models/cifar10/resnet_zero_pad.py',
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_1000pc_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/kd.py',
]

model = dict(
    student=_base_.cifar10_resnet8,
    teacher=_base_.cifar10_resnet56_zero_pad,
    teacher_ckpt='work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth',
)
