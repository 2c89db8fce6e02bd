# LFCC with an mmpretrain MobileNetV2 student: the student's taps and chains
# on its last two stages, on top of the LFCC skeleton (lfcc.py).
#   stage3: layer5 (96 ch, 14x14 at 224x224 input; the end of its 14x14
#           part)
#   stage4: layer7 (320 ch, 7x7; the last inverted-residual layer, before
#           the 1x1 conv to 1280)
# Student path: LearnableLowPassFilter (per channel) -> CompactProjector
# (256 ch, 2x2 grid). A config that inherits this sets student, teacher,
# teacher_ckpt, the teacher taps and the teacher chains t_stage3 /
# t_stage4 (their projectors must also give 256 ch on a 2x2 grid).
_base_ = ['./lfcc.py']

model = dict(
    student_taps=dict(
        logits='head.fc', stage3='backbone.layer5', stage4='backbone.layer7'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=96,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=96,
                     out_channels=256, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=320,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=320,
                     out_channels=256, grid=2),
            ]),
    ),
)
