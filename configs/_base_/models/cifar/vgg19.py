# CIFAR-100 classifier: vgg19. Referenced by name (_base_.vgg19) so that one
# config can use several networks (teacher and student of a distiller).
vgg19 = dict(
    type='ImageClassifier',
    backbone=dict(type='mmkd_contrast.CIFARVGG', arch='vgg19'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
