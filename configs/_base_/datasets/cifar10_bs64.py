# CIFAR-10 from the official download (mmpretrain's CIFAR10 dataset, which
# checks the files' md5 sums), with the augmentation of the CIFAR KD
# benchmark: random crop 32 with padding 4, horizontal flip, per-channel
# mean/std normalisation. Put the python version of CIFAR-10
# (cifar-10-batches-py) under data/cifar10, or set data_root. For the
# JPEG copy (a folder per class) use cifar10_jpeg_bs64.py instead.
dataset_type = 'CIFAR10'
data_root = 'data/cifar10'
data_preprocessor = dict(
    num_classes=10,
    # CIFAR-10 training-set mean / std on the 0-255 scale (RGB).
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    # CIFAR10 yields RGB images already.
    to_rgb=False,
)

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
