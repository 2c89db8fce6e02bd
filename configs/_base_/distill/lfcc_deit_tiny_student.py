# LFCC with an mmpretrain DeiT-Tiny student: the student's taps and chains
# on the ends of its last two stages, on top of the LFCC skeleton
# (lfcc.py). DeiT's 12 blocks are read as 4 stages of 3 blocks:
#   stage3: block 8  (192 ch, 1 class token + 14x14 patch tokens)
#   stage4: block 11 (192 ch)
# Student path: TokenToMap -> LearnableLowPassFilter (per channel) ->
# CompactProjector (256 ch, 2x2 grid). A config that inherits this sets
# student, teacher, teacher_ckpt, the teacher taps and the teacher chains
# t_stage3 / t_stage4 (their projectors must also give 256 ch on a 2x2
# grid).
_base_ = ['./lfcc.py']

model = dict(
    student_taps=dict(
        logits='head.layers.head',
        stage3='backbone.layers.8',
        stage4='backbone.layers.11'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=192,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=192,
                     out_channels=256, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.TokenToMap', num_extra_tokens=1),
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=192,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=192,
                     out_channels=256, grid=2),
            ]),
    ),
)
