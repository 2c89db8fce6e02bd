# Quickstart ViT teacher: mmpretrain's VisionTransformer at a tiny custom size
# for 1-channel 28x28 images: 7x7 patches (a 4x4 grid of 16 patch tokens +
# 1 class token), 64 channels, 4 blocks of 4 heads (138k parameters). The
# head reads the average of the patch tokens, which trains much faster than
# the class token on this small data set.
mnist_vit_tiny = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=64,
            num_layers=4,
            num_heads=4,
            feedforward_channels=128),
        img_size=28,
        patch_size=7,
        in_channels=1,
        out_type='avg_featmap'),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=0.02),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
