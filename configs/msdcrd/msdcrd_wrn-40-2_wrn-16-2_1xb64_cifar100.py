# MSDCRD (arXiv 2502.05835): wrn-40-2 -> wrn-16-2 on CIFAR-100.
# CE + L_MSD on the last-stage maps: teacher 128, student 128 channels.
# Same channels: the student map is compared directly, no aligner.
# Train the teacher first with configs/teachers/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/wrn_40_2.py',
    '../_base_/models/cifar/wrn_16_2.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.wrn_16_2,
    teacher=_base_.wrn_40_2,
    teacher_ckpt='work_dirs/wrn-40-2_1xb64_cifar100/epoch_240.pth',
)
