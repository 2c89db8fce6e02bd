# ImageNet classifier: mmpretrain's ConvNeXt-T (ConvNeXt, arch 'tiny':
# stages of 96/192/384/768 channels on 56/28/14/7 grids; 28.6M parameters).
# The backbone pools and normalises itself, so there is no neck.
convnext_tiny = dict(
    type='ImageClassifier',
    backbone=dict(type='ConvNeXt', arch='tiny', drop_path_rate=0.1),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
        init_cfg=None),
    init_cfg=dict(
        type='TruncNormal', layer=['Conv2d', 'Linear'], std=0.02, bias=0.0),
)
