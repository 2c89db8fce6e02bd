# LFCC with an mmpretrain MLP-Mixer-S/16 student (MlpMixer arch 's', 8
# blocks of 512 channels on 14x14 tokens): the student's taps and chains on
# the ends of its last two stages, on top of the LFCC skeleton (lfcc.py).
# The Mixer's 8 blocks are read as 4 stages of 2 blocks:
#   stage3: block 5 (512 ch, 14x14 tokens (B, N, C), no class token)
#   stage4: block 7 (512 ch)
# Student path: TokenToMap -> LearnableLowPassFilter (per channel) ->
# CompactProjector (256 ch, 2x2 grid). A config that inherits this sets
# student, teacher, teacher_ckpt, the teacher taps and the teacher chains
# t_stage3 / t_stage4 (their projectors must also give 256 ch on a 2x2
# grid).
_base_ = ['./lfcc.py']

model = dict(
    student_taps=dict(
        logits='head.fc',
        stage3='backbone.layers.5',
        stage4='backbone.layers.7'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap'),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=512,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=512,
                     out_channels=256, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap'),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=512,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=512,
                     out_channels=256, grid=2),
            ]),
    ),
)
