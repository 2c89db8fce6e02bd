# CIFAR-100 classifier: resnet32. Referenced by name (_base_.resnet32) so that one
# config can use several networks (teacher and student of a distiller).
resnet32 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='resnet32'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
