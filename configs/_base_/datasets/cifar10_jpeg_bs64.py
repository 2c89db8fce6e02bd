# CIFAR-10 as one JPEG per image in a folder per class, read by mmpretrain's
# CustomDataset (classes from the folder names, sorted):
#   data/cifar10-jpeg/train/<class>/*.jpg   50,000 images
#   data/cifar10-jpeg/test/<class>/*.jpg    10,000 images
# Same augmentation and normalisation as cifar10_bs64.py (the official
# files): random crop 32 with padding 4, horizontal flip, CIFAR-10 mean/std.
# JPEG files are decoded as BGR, hence to_rgb=True.
dataset_type = 'CustomDataset'
data_root = 'data/cifar10-jpeg'
data_preprocessor = dict(
    num_classes=10,
    # CIFAR-10 training-set mean / std on the 0-255 scale (RGB).
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
