# The segmentation pair: mmseg's PSPNet R-101-D8 teacher (79.76 mIoU on
# Cityscapes val in mmseg's model zoo) -> PSPNet R-18-D8 student (74.87
# trained alone, same recipe), plus per-pixel KD on the decode head's logits.
# The distiller is written scoped, so it resolves under mmseg's default
# scope; student and teacher are 'mmseg.' types, built in mmseg's scope.
#
# Teacher weights (keys backbone.* / decode_head.* / auxiliary_head.* match):
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/pspnet_r101-d8_512x1024_80k_cityscapes/pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth
#
# Per-pixel KD: KL over the 19 classes at each position of the 1/8-scale
# logits (tau 1), averaged over the positions whose label (the ground truth
# nearest-resized to the logits) is not 255.
_base_ = ['../models/mmseg/pspnet_r50-d8.py']

custom_imports = dict(imports=['mmkd_contrast'], allow_failed_imports=False)

teacher = dict(
    _base_.pspnet_r50_d8,
    pretrained=None,
    backbone=dict(_base_.pspnet_r50_d8.backbone, depth=101))
student = dict(
    _base_.pspnet_r50_d8,
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(_base_.pspnet_r50_d8.backbone, depth=18),
    decode_head=dict(
        _base_.pspnet_r50_d8.decode_head, in_channels=512, channels=128),
    auxiliary_head=dict(
        _base_.pspnet_r50_d8.auxiliary_head, in_channels=256, channels=64))

model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student=student,
    teacher=teacher,
    teacher_ckpt='checkpoints/pspnet_r101-d8_512x1024_80k_cityscapes_'
    '20200606_112211-e1e1100f.pth',
    # Backbone stages: (64, 128, 256, 512) channels for R-18,
    # (256, 512, 1024, 2048) for R-101; stages 3 and 4 at 1/8 scale.
    student_taps=dict(
        logits='decode_head.conv_seg',
        stage3=dict(path='backbone', index=2),
        stage4=dict(path='backbone', index=3)),
    teacher_taps=dict(
        logits='decode_head.conv_seg',
        stage3=dict(path='backbone', index=2),
        stage4=dict(path='backbone', index=3)),
    distill_losses=dict(
        kd=dict(type='mmkd_contrast.KDLoss', tau=1.0, loss_weight=1.0, ignore_index=255)),
    loss_inputs=dict(
        kd=dict(
            s_logits='student.logits',
            t_logits='teacher.logits',
            labels='data.gt_sem_seg')),
)
