# CIFAR-100 classifier: resnet20. Referenced by name (_base_.resnet20) so that one
# config can use several networks (teacher and student of a distiller).
resnet20 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='resnet20'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
