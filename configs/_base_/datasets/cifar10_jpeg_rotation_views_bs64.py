# CIFAR-10 JPEG copy (cifar10_jpeg_bs64.py) for PCKD: each training image is
# decoded, then becomes its 0/90/180/270-degree views (one random
# horizontal flip first, then the rotations, then a random crop 32 with
# padding 4 for each view), batched view-major as 4 x 64 = 256 samples by
# MultiViewClsDataPreprocessor. Validation and test use the single view.
_base_ = ['./cifar10_jpeg_bs64.py']

data_preprocessor = dict(type='mmkd_contrast.MultiViewClsDataPreprocessor')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='mmkd_contrast.RotationViews',
        flip_prob=0.5,
        view_pipeline=[dict(type='RandomCrop', crop_size=32, padding=4)]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
