# CIFAR-100 classifier: vgg8. Referenced by name (_base_.vgg8) so that one
# config can use several networks (teacher and student of a distiller).
vgg8 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARVGG', arch='vgg8'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
