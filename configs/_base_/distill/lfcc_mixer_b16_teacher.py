# LFCC with an mmpretrain MLP-Mixer-B/16 teacher: its taps and chains
# on its last two stages, for a config on top of the LFCC skeleton (lfcc.py
# or one of its lfcc_*_student.py).
#   stage3: block 8  (768 ch, 14x14 tokens (B, N, C), no class token; the
#           Mixer's 12 blocks read as 4 stages of 3 blocks)
#   stage4: block 11 (768 ch)
# Teacher path: TokenToMap -> LowPassFilter ->
# CompactProjector (256 ch, 2x2 grid). A config spreads it into its model:
#   model = dict(..., **_base_.lfcc_mixer_b16_teacher)
# (a variable, not a model of its own: a second base may not set model).
lfcc_mixer_b16_teacher = dict(
    teacher_taps=dict(
        logits='head.fc',
        stage3='backbone.layers.8',
        stage4='backbone.layers.11'),
    connectors=dict(
        t_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap'),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=768,
                     out_channels=256, grid=2),
            ]),
        t_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap'),
                dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
                dict(type='mmkd_contrast.CompactProjector', in_channels=768,
                     out_channels=256, grid=2),
            ]),
    ),
)
