# CIFAR-100 classifier: wrn_40_2. Referenced by name (_base_.wrn_40_2) so that one
# config can use several networks (teacher and student of a distiller).
wrn_40_2 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARWideResNet', arch='wrn_40_2'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
