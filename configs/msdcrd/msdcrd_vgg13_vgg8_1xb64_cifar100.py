# MSDCRD (arXiv 2502.05835): vgg13 -> vgg8 on CIFAR-100.
# CE + L_MSD on the last-stage maps: teacher 512, student 512 channels.
# Same channels: the student map is compared directly, no aligner.
# Train the teacher first with configs/teachers/vgg13_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/vgg13.py',
    '../_base_/models/cifar/vgg8.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.vgg8,
    teacher=_base_.vgg13,
    teacher_ckpt='work_dirs/vgg13_1xb64_cifar100/epoch_240.pth',
)
