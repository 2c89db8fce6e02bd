# CIFAR-10 classifier: resnet8 of the CIFAR KD zoo (78 k parameters), 10
# classes. Referenced by name (_base_.cifar10_resnet8).
cifar10_resnet8 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARResNet', arch='resnet8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
