# Quickstart teacher: mmpretrain's CIFAR ResNet-18 at 1/4 width, 1 channel in.
mnist_resnet18_w16 = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR', depth=18, in_channels=1, stem_channels=16,
        base_channels=16),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead', num_classes=10, in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
