# CIFAR-10 classifiers with the original CIFAR ResNets' parameter-free
# "option A" shortcuts (CIFARResNet shortcut='zero_pad'): the layout of the
# published CIFAR-10 resnet20/32/56 weights, which
# tools/model_converters/cifar10_resnet_to_mmkd.py converts. Referenced by
# name (_base_.cifar10_resnet20_zero_pad, ...).
_head = dict(
    type='LinearClsHead',
    num_classes=10,
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
cifar10_resnet20_zero_pad = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmkd_contrast.CIFARResNet', arch='resnet20',
        shortcut='zero_pad'),
    neck=dict(type='GlobalAveragePooling'),
    head=_head)
cifar10_resnet32_zero_pad = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmkd_contrast.CIFARResNet', arch='resnet32',
        shortcut='zero_pad'),
    neck=dict(type='GlobalAveragePooling'),
    head=_head)
cifar10_resnet56_zero_pad = dict(
    type='ImageClassifier',
    backbone=dict(
        type='mmkd_contrast.CIFARResNet', arch='resnet56',
        shortcut='zero_pad'),
    neck=dict(type='GlobalAveragePooling'),
    head=_head)
