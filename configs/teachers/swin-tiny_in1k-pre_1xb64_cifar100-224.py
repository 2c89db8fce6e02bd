# Swin-T fine-tuned on CIFAR-100 at 224x224 from the mmpretrain ImageNet-1k
# checkpoint, the teacher of configs/lfcc/lfcc_swin-tiny_resnet18_1xb64_
# cifar100-224.py. Put the ImageNet checkpoint at
# checkpoints/swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth
# (the backbone is loaded from it; the 100-class head starts fresh).
# Fine-tuning (this project's choice): AdamW lr 1e-4, wd 0.05, 1 warm-up
# epoch then cosine, 30 epochs, batch 64.
_base_ = [
    '../_base_/models/imagenet/swin_tiny.py',
    '../_base_/datasets/cifar100_224_bs64.py',
    '../_base_/default_runtime.py',
]

model = _base_.swin_tiny
model.head.num_classes = 100
model.backbone.init_cfg = dict(
    type='Pretrained',
    checkpoint='checkpoints/'
    'swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth',
    prefix='backbone')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.absolute_pos_embed': dict(decay_mult=0.0),
            '.relative_position_bias_table': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=1),
]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
