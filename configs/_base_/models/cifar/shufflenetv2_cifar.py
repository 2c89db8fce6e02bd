# CIFAR-100 classifier: shufflenetv2_cifar. Referenced by name (_base_.shufflenetv2_cifar) so that one
# config can use several networks (teacher and student of a distiller).
shufflenetv2_cifar = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARShuffleNetV2'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
