# LFCC with an mmpretrain ResNet-50 teacher: its taps and chains
# on its last two stages, for a config on top of the LFCC skeleton (lfcc.py
# or one of its lfcc_*_student.py).
#   stage3: layer3 (1024 ch, 14x14 at 224x224 input)
#   stage4: layer4 (2048 ch, 7x7)
# Teacher path: LowPassFilter -> CompactProjector (256 ch, 2x2 grid). A
# config spreads it into its model:
#   model = dict(..., **_base_.lfcc_resnet50_teacher)
# (a variable, not a model of its own: a second base may not set model).
lfcc_resnet50_teacher = dict(
    teacher_taps=dict(
        logits='head.fc', stage3='backbone.layer3', stage4='backbone.layer4'),
    connectors=dict(
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=1024,
                     out_channels=256, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=2048,
                     out_channels=256, grid=2),
            ]),
    ),
)
