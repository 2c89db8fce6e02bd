# ImageNet classifier: mmpretrain's MobileNetV2 (width 1.0; layer1..layer7
# end with 16/24/32/64/96/160/320 channels on 112/56/28/14/14/7/7 grids;
# 3.5M parameters).
mobilenetv2 = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
)
