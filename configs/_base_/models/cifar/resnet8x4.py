# CIFAR-100 classifier: resnet8x4. Referenced by name (_base_.resnet8x4) so that one
# config can use several networks (teacher and student of a distiller).
resnet8x4 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='resnet8x4'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
