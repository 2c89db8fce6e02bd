# CIFAR-100 classifier: vgg16. Referenced by name (_base_.vgg16) so that one
# config can use several networks (teacher and student of a distiller).
vgg16 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARVGG', arch='vgg16'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
