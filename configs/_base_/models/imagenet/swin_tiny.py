# ImageNet classifier: mmpretrain's Swin-T (SwinTransformer, arch 'tiny' at
# 224: stages of 96/192/384/768 channels on 56/28/14/7 grids; 28.3M
# parameters). Each stage module returns (tokens (B, h*w, C), (h, w)).
swin_tiny = dict(
    type='ImageClassifier',
    backbone=dict(
        type='SwinTransformer', arch='tiny', img_size=224,
        drop_path_rate=0.2),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
