# MSDCRD (arXiv 2502.05835): resnet32x4 -> shufflenetv1 on CIFAR-100.
# CE + L_MSD on the last-stage maps: teacher 256, student 960 channels.
# The student map goes through a ChannelAligner (960 -> 256), used only in
# training.
# Train the teacher first with configs/teachers/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/resnet32x4.py',
    '../_base_/models/cifar/shufflenetv1_cifar.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.shufflenetv1_cifar,
    teacher=_base_.resnet32x4,
    teacher_ckpt='work_dirs/resnet32x4_1xb64_cifar100/epoch_240.pth',
    connectors=dict(
        s_align=dict(
            type='mmkd_contrast.ChannelAligner', in_channels=960, out_channels=256)),
    loss_inputs=dict(msdcrd=dict(s_feat=dict(connector='s_align'))),
)

# Lightweight students use lr 0.01 in the benchmark.
optim_wrapper = dict(optimizer=dict(lr=0.01))
