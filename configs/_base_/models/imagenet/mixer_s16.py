# ImageNet classifier: mmpretrain's smallest MLP-Mixer, S/16 (MlpMixer, arch
# 's', 16x16 patches at 224: 196 tokens of 512 channels, 8 blocks; 18.5M
# parameters). mmpretrain 1.2.0 has two MLP backbones, MlpMixer (s, b, l)
# and RepMLPNet (arch 'b' only, 68M parameters); this is the smallest.
mixer_s16 = dict(
    type='ImageClassifier',
    backbone=dict(
        type='MlpMixer',
        arch='s',
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
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0),
        dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
    ],
)
