# CIFAR-100 classifier: shufflenetv1_cifar. Referenced by name (_base_.shufflenetv1_cifar) so that one
# config can use several networks (teacher and student of a distiller).
shufflenetv1_cifar = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARShuffleNetV1'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=960,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
