# KD (Hinton et al. 2015): resnet32x4 -> resnet8x4 on CIFAR-100, the benchmark's KD
# recipe: CE weight 0.1, KD weight 0.9, tau 4. Train the teacher first with
# configs/teachers/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/resnet32x4.py',
    '../_base_/models/cifar/resnet8x4.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/kd.py',
]

student = _base_.resnet8x4
student.head.loss.loss_weight = 0.1

model = dict(
    student=student,
    teacher=_base_.resnet32x4,
    teacher_ckpt='work_dirs/resnet32x4_1xb64_cifar100/epoch_240.pth',
    distill_losses=dict(kd=dict(loss_weight=0.9)),
)
