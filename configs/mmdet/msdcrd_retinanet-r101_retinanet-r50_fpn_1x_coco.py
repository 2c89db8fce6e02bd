# MSDCRD (arXiv 2502.05835): RetinaNet R-101-FPN -> RetinaNet R-50-FPN on
# COCO, mmdet's 1x recipe (8 GPUs x 2 images, 12 epochs, SGD lr 0.01 as in
# mmdet's RetinaNet configs). Objective: the student's own losses (focal +
# L1) + L_MSD on FPN level P4 (stride 16, 256 channels in both networks, so
# no aligner), pooled into 1x1, 2x2 and 4x4 local features.
#
# Needs mmdet 3.3.0 and full mmcv 2.1 (see docs/segmentation_detection.md);
# run from the repository root:
#   python tools/train.py configs/mmdet/msdcrd_retinanet-r101_retinanet-r50_fpn_1x_coco.py
_base_ = [
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/distill/mmdet_retinanet-r101_retinanet-r50.py',
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))

model = dict(
    distill_losses=dict(
        msdcrd=dict(
            type='mmkd_contrast.MSDCRDLoss',
            scales=(1, 2, 4),
            temperature=0.1,
            sample_weight=1.0,
            feature_weight=1.0,
            symmetric=False,
            loss_weight=1.0)),
    loss_inputs=dict(msdcrd=dict(s_feat='student.p4', t_feat='teacher.p4')),
)
