# ImageNet classifier: mmpretrain's DeiT-Small (VisionTransformer, arch
# 'deit-small', 16x16 patches at 224: 196 patch tokens + 1 class token, 384
# channels, 12 blocks; 22.1M parameters).
deit_small = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=1000,
        in_channels=384,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=0.02),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
