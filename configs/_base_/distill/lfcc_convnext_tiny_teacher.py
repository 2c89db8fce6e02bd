# LFCC with an mmpretrain ConvNeXt-T teacher: its taps and chains
# on its last two stages, for a config on top of the LFCC skeleton (lfcc.py
# or one of its lfcc_*_student.py).
#   stage3: stages.2 (384 ch, 14x14 at 224x224 input)
#   stage4: stages.3 (768 ch, 7x7)
# Teacher path: LowPassFilter -> CompactProjector (256 ch, 2x2 grid). A
# config spreads it into its model:
#   model = dict(..., **_base_.lfcc_convnext_tiny_teacher)
# (a variable, not a model of its own: a second base may not set model).
lfcc_convnext_tiny_teacher = dict(
    teacher_taps=dict(
        logits='head.fc',
        stage3='backbone.stages.2',
        stage4='backbone.stages.3'),
    connectors=dict(
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=384,
                     out_channels=256, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=768,
                     out_channels=256, grid=2),
            ]),
    ),
)
