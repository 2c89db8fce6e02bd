# LFCC (arXiv 2405.18524) + per-pixel KD: PSPNet R-101-D8 -> PSPNet R-18-D8
# on Cityscapes, mmseg's 80k-iteration recipe (4 GPUs x 2 crops of 512x1024,
# SGD lr 0.01, poly). Objective: the student's own losses + per-pixel KD +
# the LFCC contrast (tau 0.1, symmetric, weight 1) on backbone stages 3 and
# 4 (1/8 scale). Student path: LearnableLowPassFilter (per channel) ->
# CompactProjector; teacher path: LowPassFilter -> CompactProjector; both
# projectors give 256 channels on a 2x2 grid.
#
# Needs mmsegmentation 1.2.2 and full mmcv 2.1 (see
# docs/segmentation_detection.md); run from the repository root:
#   python tools/train.py configs/mmseg/lfcc_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024.py
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/distill/mmseg_pspnet-r101-d8_pspnet-r18-d8.py',
]


model = dict(
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
    distill_losses=dict(
        lfcc_stage3=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
        lfcc_stage4=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
    ),
    loss_inputs=dict(
        lfcc_stage3=dict(
            s_emb=dict(tap='student.stage3', connector='s_stage3'),
            t_emb=dict(tap='teacher.stage3', connector='t_stage3')),
        lfcc_stage4=dict(
            s_emb=dict(tap='student.stage4', connector='s_stage4'),
            t_emb=dict(tap='teacher.stage4', connector='t_stage4')),
    ),
)
