# CIFAR-100 classifier: resnet50_cifar. Referenced by name (_base_.resnet50_cifar) so that one
# config can use several networks (teacher and student of a distiller).
resnet50_cifar = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='ResNet50'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
