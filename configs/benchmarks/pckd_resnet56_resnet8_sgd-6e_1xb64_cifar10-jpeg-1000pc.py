# SGD CIFAR-10 benchmark: resnet8 distilled from the fine-tuned published
# resnet56 with PCKD, the authors' released objective (no KD term):
#   CE(unrotated) + beta 0.05 * L_CC(v) + alpha 1 * L_CA + f 20 * L_FA
# on the 4 rotated views of each image (64 images = 256 samples per batch).
# The preview threshold ends at the 240-epoch run's final value, 3.31, at
# the last of the 6 epochs.
_base_ = [
    '../_base_/models/cifar10/resnet_zero_pad.py',
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/'
    'cifar10_jpeg_imagenet-norm_1000pc_rotation_views_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/pckd.py',
]

model = dict(
    student=_base_.cifar10_resnet8,
    teacher=_base_.cifar10_resnet56_zero_pad,
    teacher_ckpt='work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth',
    distill_losses=dict(kd=None),
    preview=dict(final_threshold=3.31),
)
