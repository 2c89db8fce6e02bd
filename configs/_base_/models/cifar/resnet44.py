# CIFAR-100 classifier: resnet44. Referenced by name (_base_.resnet44) so that one
# config can use several networks (teacher and student of a distiller).
resnet44 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='resnet44'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
