# MSDCRD (arXiv 2502.05835): wrn-40-2 -> wrn-40-1 on CIFAR-100.
# CE + L_MSD on the last-stage maps: teacher 128, student 64 channels.
# The student map goes through a ChannelAligner (64 -> 128), used only in
# training.
# Train the teacher first with configs/teachers/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/wrn_40_2.py',
    '../_base_/models/cifar/wrn_40_1.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.wrn_40_1,
    teacher=_base_.wrn_40_2,
    teacher_ckpt='work_dirs/wrn-40-2_1xb64_cifar100/epoch_240.pth',
    connectors=dict(
        s_align=dict(
            type='mmkd_contrast.ChannelAligner', in_channels=64, out_channels=128)),
    loss_inputs=dict(msdcrd=dict(s_feat=dict(connector='s_align'))),
)
