# MSDCRD (arXiv 2502.05835) + per-pixel KD: PSPNet R-101-D8 -> PSPNet R-18-D8
# on Cityscapes, mmseg's 80k-iteration recipe (4 GPUs x 2 crops of 512x1024,
# SGD lr 0.01, poly). Objective: the student's own losses (decode + 0.4 aux
# CE) + per-pixel KD + L_MSD on the last backbone stage (student 512 ch
# mapped to the teacher's 2048 by a ChannelAligner; 64x128 maps pooled into
# 1x1, 2x2 and 4x4 local features).
#
# Needs mmsegmentation 1.2.2 and full mmcv 2.1 (see
# docs/segmentation_detection.md); run from the repository root:
#   python tools/train.py configs/mmseg/msdcrd_pspnet-r101-d8_pspnet-r18-d8_4xb2-80k_cityscapes-512x1024.py
_base_ = [
    'mmseg::_base_/datasets/cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_80k.py',
    '../_base_/distill/mmseg_pspnet-r101-d8_pspnet-r18-d8.py',
]

model = dict(
    connectors=dict(
        s_align=dict(
            type='mmkd_contrast.ChannelAligner', in_channels=512, out_channels=2048)),
    distill_losses=dict(
        msdcrd=dict(
            type='mmkd_contrast.MSDCRDLoss',
            scales=(1, 2, 4),
            temperature=0.1,
            sample_weight=1.0,
            feature_weight=1.0,
            symmetric=False,
            loss_weight=1.0)),
    loss_inputs=dict(
        msdcrd=dict(
            s_feat=dict(tap='student.stage4', connector='s_align'),
            t_feat='teacher.stage4')),
)
