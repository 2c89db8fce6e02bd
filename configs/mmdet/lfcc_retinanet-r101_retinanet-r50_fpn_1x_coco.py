# LFCC (arXiv 2405.18524): RetinaNet R-101-FPN -> RetinaNet R-50-FPN on COCO,
# mmdet's 1x recipe (8 GPUs x 2 images, 12 epochs, SGD lr 0.01 as in mmdet's
# RetinaNet configs). Objective: the student's own losses + the LFCC
# contrast (tau 0.1, symmetric, weight 1) on FPN levels P4 and P5 (256
# channels). Student path: LearnableLowPassFilter (per channel) ->
# CompactProjector; teacher path: LowPassFilter -> CompactProjector; both
# give 256 channels on a 2x2 grid.
#
# Needs mmdet 3.3.0 and full mmcv 2.1 (see docs/segmentation_detection.md);
# run from the repository root:
#   python tools/train.py configs/mmdet/lfcc_retinanet-r101_retinanet-r50_fpn_1x_coco.py
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/distill/mmdet_retinanet-r101_retinanet-r50.py',
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))

student_chain = dict(
    type='mmkd_contrast.ConnectorSequence',
    connectors=[
        dict(type='mmkd_contrast.LearnableLowPassFilter', in_channels=256,
             kernel_sizes=(2, 4), per_channel=True),
        dict(type='mmkd_contrast.CompactProjector', in_channels=256, out_channels=256,
             grid=2),
    ])
teacher_chain = dict(
    type='mmkd_contrast.ConnectorSequence',
    connectors=[
        dict(type='mmkd_contrast.LowPassFilter', kernel_sizes=(2, 4)),
        dict(type='mmkd_contrast.CompactProjector', in_channels=256, out_channels=256,
             grid=2),
    ])

model = dict(
    connectors=dict(
        s_p4=student_chain, s_p5=student_chain,
        t_p4=teacher_chain, t_p5=teacher_chain),
    distill_losses=dict(
        lfcc_p4=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
        lfcc_p5=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
    ),
    loss_inputs=dict(
        lfcc_p4=dict(
            s_emb=dict(tap='student.p4', connector='s_p4'),
            t_emb=dict(tap='teacher.p4', connector='t_p4')),
        lfcc_p5=dict(
            s_emb=dict(tap='student.p5', connector='s_p5'),
            t_emb=dict(tap='teacher.p5', connector='t_p5')),
    ),
)
