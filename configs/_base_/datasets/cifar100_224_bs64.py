# CIFAR-100 upsampled to 224x224, for networks built for ImageNet-sized
# inputs (ViT, Swin, MLP-Mixer, ImageNet CNNs): the CIFAR augmentation
# (random crop 32 with padding 4, horizontal flip) on the 32x32 image, then a
# bicubic resize to 224; testing only resizes. Per-channel mean/std of the
# CIFAR-100 training set. Put the python version of CIFAR-100 under
# data/cifar100 (or set data_root).
dataset_type = 'CIFAR100'
data_root = 'data/cifar100'
data_preprocessor = dict(
    num_classes=100,
    # CIFAR-100 training-set mean / std on the 0-255 scale (RGB).
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418],
    # CIFAR images are loaded as RGB already.
    to_rgb=False,
)

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

train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
