# MSDCRD (arXiv 2502.05835): wrn-40-2 -> wrn-40-1 on CIFAR-100, three stages
# distilled at once: CE + L_MSD(stage 1) + L_MSD(stage 2) + L_MSD(last stage).
# Each stage has its own ChannelAligner (student 16/32/64 -> teacher 32/64/128
# channels; maps 32x32, 16x16, 8x8) and its own loss entry, logged as
# distill.loss_msdcrd_block1, distill.loss_msdcrd_block2, distill.loss_msdcrd.
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
    # 'feat' (the last-stage map, 'backbone') comes from the base.
    student_taps=dict(block1='backbone.block1', block2='backbone.block2'),
    teacher_taps=dict(block1='backbone.block1', block2='backbone.block2'),
    connectors=dict(
        s_align1=dict(type='mmkd_contrast.ChannelAligner', in_channels=16, out_channels=32),
        s_align2=dict(type='mmkd_contrast.ChannelAligner', in_channels=32, out_channels=64),
        s_align=dict(
            type='mmkd_contrast.ChannelAligner', in_channels=64, out_channels=128)),
    distill_losses=dict(
        msdcrd_block1=_base_.model.distill_losses.msdcrd,
        msdcrd_block2=_base_.model.distill_losses.msdcrd),
    loss_inputs=dict(
        msdcrd=dict(s_feat=dict(connector='s_align')),
        msdcrd_block1=dict(
            s_feat=dict(tap='student.block1', connector='s_align1'),
            t_feat='teacher.block1'),
        msdcrd_block2=dict(
            s_feat=dict(tap='student.block2', connector='s_align2'),
            t_feat='teacher.block2')),
)
