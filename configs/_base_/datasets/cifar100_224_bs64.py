# CIFAR-100 upsampled to 224x224, for networks built for ImageNet-sized
# inputs (ViT, Swin, MLP-Mixer, ImageNet CNNs): the CIFAR augmentation of
# cifar100_bs64.py (random crop 32 with padding 4, horizontal flip) on the
# 32x32 image, then a bicubic resize to 224; testing only resizes, 64 images
# a batch. Per-channel mean/std of the CIFAR-100 training set. Put the
# python version of CIFAR-100 under data/cifar100 (or set data_root).
_base_ = ['./cifar100_bs64.py']

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
