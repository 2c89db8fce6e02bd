# LFCC with an mmpretrain DeiT-Small teacher: its taps and chains
# on its last two stages, for a config on top of the LFCC skeleton (lfcc.py
# or one of its lfcc_*_student.py).
#   stage3: block 8  (384 ch, 1 class token + 14x14 patch tokens; DeiT's
#           12 blocks read as 4 stages of 3 blocks)
#   stage4: block 11 (384 ch)
# Teacher path: TokenToMap -> LowPassFilter ->
# CompactProjector (256 ch, 2x2 grid). A config spreads it into its model:
#   model = dict(..., **_base_.lfcc_deit_small_teacher)
# (a variable, not a model of its own: a second base may not set model).
lfcc_deit_small_teacher = dict(
    teacher_taps=dict(
        logits='head.layers.head',
        stage3='backbone.layers.8',
        stage4='backbone.layers.11'),
    connectors=dict(
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=384,
                     out_channels=256, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=384,
                     out_channels=256, grid=2),
            ]),
    ),
)
