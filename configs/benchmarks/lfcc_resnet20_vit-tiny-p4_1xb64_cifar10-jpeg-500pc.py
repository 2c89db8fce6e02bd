# CIFAR-10 benchmark: the tiny ViT student distilled from the resnet20
# teacher with LFCC (a CNN teaching a token network: the heterogeneous case
# LFCC is for): CE + KD (tau 4, weight 1) + LFCC on two stages.
#
# Stages (the ViT's 4 blocks read as 2 stages; resnet20's last two):
#   stage3: ViT block 1 (96 ch, 1 class token + 8x8 patch tokens)
#           <- resnet20 layer2 (32 ch, 16x16)
#   stage4: ViT block 3 (96 ch, 8x8 tokens) <- resnet20 layer3 (64 ch, 8x8)
# Both sides: low-pass filter (learnable per channel on the student, fixed
# on the teacher), then a CompactProjector to 64 ch on a 2x2 grid.
_base_ = [
    '../_base_/models/cifar10/resnet20.py',
    '../_base_/models/cifar10/vit_tiny_p4.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc.py',
]

model = dict(
    student=_base_.cifar10_vit_tiny_p4,
    teacher=_base_.cifar10_resnet20,
    teacher_ckpt='work_dirs/resnet20_1xb64_cifar10-jpeg/epoch_3.pth',
    student_taps=dict(
        logits='head.layers.head',
        stage3='backbone.layers.1',
        stage4='backbone.layers.3'),
    teacher_taps=dict(
        logits='head.fc', stage3='backbone.layer2', stage4='backbone.layer3'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=96,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=96,
                     out_channels=64, grid=2),
            ]),
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=32,
                     out_channels=64, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=96,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=96,
                     out_channels=64, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=64,
                     out_channels=64, grid=2),
            ]),
    ),
)
