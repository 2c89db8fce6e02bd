# SGD CIFAR-10 benchmark: the tiny ViT distilled from the fine-tuned
# published resnet56 with LFCC (CE + KD + LFCC on two stages). Stages,
# filters and projectors are those of the earlier protocol's LFCC row
# (lfcc_resnet20_vit-tiny-p4_1xb64_cifar10-jpeg-500pc.py): resnet56's
# layer2 (32 ch, 16x16) and layer3 (64 ch, 8x8) have resnet20's widths.
# Teacher, data (1,000 images per class, ImageNet normalisation) and SGD
# schedule are this benchmark's, with SGD lr 0.01 as every ViT row.
_base_ = ['./lfcc_resnet20_vit-tiny-p4_1xb64_cifar10-jpeg-500pc.py']

model = dict(
    teacher=dict(backbone=dict(arch='resnet56', shortcut='zero_pad')),
    teacher_ckpt='work_dirs/teachers_cifar10/resnet56_cifar10-pre_ft-1e.pth',
)
data_preprocessor = dict(
    # ImageNet mean / std of 0-1 pixels, times 255 (RGB).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
)
train_dataloader = dict(dataset=dict(num_per_class=1000))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='SGD', lr=0.01, momentum=0.9,
        weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=6,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=6, val_interval=6)
