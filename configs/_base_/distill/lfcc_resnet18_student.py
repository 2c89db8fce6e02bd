# LFCC with an mmpretrain ResNet-18 student: the student's taps and chains
# on its last two stages, on top of the LFCC skeleton (lfcc.py).
#   stage3: layer3 (256 ch, 14x14 at 224x224 input)
#   stage4: layer4 (512 ch, 7x7)
# Student path: LearnableLowPassFilter (per channel) -> CompactProjector
# (256 ch, 2x2 grid). A config that inherits this sets student, teacher,
# teacher_ckpt, the teacher taps and the teacher chains t_stage3 /
# t_stage4 (their projectors must also give 256 ch on a 2x2 grid).
_base_ = ['./lfcc.py']

model = dict(
    student_taps=dict(
        logits='head.fc', stage3='backbone.layer3', stage4='backbone.layer4'),
    connectors=dict(
        s_stage3=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=256,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=256,
                     out_channels=256, grid=2),
            ]),
        s_stage4=dict(
            type='mmkd_contrast.ConnectorSequence',
            connectors=[
                dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=512,
                     kernel_sizes=(2, 4), per_channel=True),
                dict(type='mmkd_contrast.CompactProjector', in_channels=512,
                     out_channels=256, grid=2),
            ]),
    ),
)
