# CIFAR-100 classifier: mobilenetv2_cifar. Referenced by name (_base_.mobilenetv2_cifar) so that one
# config can use several networks (teacher and student of a distiller).
mobilenetv2_cifar = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARMobileNetV2'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=1280,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
