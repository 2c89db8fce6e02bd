# The detection pair: mmdet's RetinaNet R-101-FPN teacher (38.5 box AP on
# COCO val2017 in mmdet's model zoo) -> RetinaNet R-50-FPN student (36.5
# trained alone, same 1x recipe). The distiller is written scoped, so it
# resolves under mmdet's default scope; student and teacher are 'mmdet.'
# types, built in mmdet's scope. The FPN levels P3-P7 (256 channels each,
# strides 8-128) are tapped as neck outputs 0-4.
#
# Teacher weights (keys backbone.* / neck.* / bbox_head.* match):
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_1x_coco/retinanet_r101_fpn_1x_coco_20200130-7a93545f.pth
_base_ = ['../models/mmdet/retinanet_r50_fpn.py']

custom_imports = dict(imports=['mmkd_contrast'], allow_failed_imports=False)

teacher = dict(
    _base_.retinanet_r50_fpn,
    backbone=dict(_base_.retinanet_r50_fpn.backbone, depth=101,
                  init_cfg=None))
student = _base_.retinanet_r50_fpn

model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student=student,
    teacher=teacher,
    teacher_ckpt='checkpoints/retinanet_r101_fpn_1x_coco_20200130-'
    '7a93545f.pth',
    student_taps=dict(
        p4=dict(path='neck', index=1), p5=dict(path='neck', index=2)),
    teacher_taps=dict(
        p4=dict(path='neck', index=1), p5=dict(path='neck', index=2)),
)
