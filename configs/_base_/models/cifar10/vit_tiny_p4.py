# CIFAR-10 classifier: mmpretrain's VisionTransformer at a tiny custom size
# for 32x32 images: 4x4 patches (an 8x8 grid of 64 patch tokens + 1 class
# token), 96 channels, 4 blocks of 3 heads (312 k parameters). The head
# reads the average of the patch tokens. Referenced by name
# (_base_.cifar10_vit_tiny_p4).
cifar10_vit_tiny_p4 = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=96,
            num_layers=4,
            num_heads=3,
            feedforward_channels=192),
        img_size=32,
        patch_size=4,
        out_type='avg_featmap'),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=10,
        in_channels=96,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=0.02),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
