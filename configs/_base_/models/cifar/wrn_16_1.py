# CIFAR-100 classifier: wrn_16_1. Referenced by name (_base_.wrn_16_1) so that one
# config can use several networks (teacher and student of a distiller).
wrn_16_1 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARWideResNet', arch='wrn_16_1'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
