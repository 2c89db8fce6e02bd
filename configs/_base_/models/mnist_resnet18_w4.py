# Quickstart student: mmpretrain's CIFAR ResNet-18 at 1/16 width (44k params).
mnist_resnet18_w4 = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR', depth=18, in_channels=1, stem_channels=4,
        base_channels=4),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=10, in_channels=32,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
