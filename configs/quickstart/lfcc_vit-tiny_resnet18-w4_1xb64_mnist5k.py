# Quickstart: the student distilled with LFCC (arXiv 2405.18524) from a tiny
# ViT teacher: CE + KD (tau 4, weight 1) + LFCC on two stages.
# The teacher checkpoint comes from teacher_vit-tiny_1xb64_mnist5k.py, e.g.
#   --cfg-options model.teacher_ckpt=<teacher run>/epoch_20.pth
# (the default is where tools/quickstart.py trains it)
#
# Stages (the student's last two; the ViT's 4 blocks read as 2 stages):
#   stage3: student layer3 (16 ch, 7x7) <- ViT block 1 (64 ch, 1 class
#           token + 4x4 patch tokens)
#   stage4: student layer4 (32 ch, 4x4) <- ViT block 3 (64 ch)
_base_ = [
    '../_base_/models/mnist_vit_tiny.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc.py',
]

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_vit_tiny,
    teacher_ckpt='work_dirs/quickstart/teacher_vit-tiny_1xb64_mnist5k/epoch_20.pth',
    student_taps=dict(
        logits='head.fc', stage3='backbone.layer3', stage4='backbone.layer4'),
    teacher_taps=dict(
        logits='head.layers.head',
        stage3='backbone.layers.1',
        stage4='backbone.layers.3'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=16,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=16,
                     out_channels=64, grid=2),
            ]),
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=64,
                     out_channels=64, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=32,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=32,
                     out_channels=64, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=64,
                     out_channels=64, grid=2),
            ]),
    ),
)
