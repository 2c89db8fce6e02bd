# ImageNet classifier: mmpretrain's MLP-Mixer-B/16 (MlpMixer, arch 'b',
# 16x16 patches at 224: 196 tokens of 768 channels, 12 blocks; 59.9M
# parameters). Each block returns tokens (B, 196, 768); the backbone itself
# returns (B, C, N), hence the neck pools over dim 1 of (B, C, N).
mixer_b16 = dict(
    type='ImageClassifier',
    backbone=dict(
        type='MlpMixer',
        arch='b',
        img_size=224,
        patch_size=16,
        drop_rate=0.1,
        init_cfg=[
            dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_in',
                nonlinearity='linear')
        ]),
    neck=dict(type='GlobalAveragePooling', dim=1),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
)
