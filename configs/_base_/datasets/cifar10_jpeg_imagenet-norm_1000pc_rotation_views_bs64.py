# PCKD's rotated views (cifar10_jpeg_rotation_views_bs64.py) on the SGD
# CIFAR-10 benchmark's subset (1,000 images per class) with the ImageNet
# normalisation of the published teachers.
_base_ = ['./cifar10_jpeg_rotation_views_bs64.py']

data_preprocessor = dict(
    # ImageNet mean / std of 0-1 pixels, times 255 (RGB).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd_contrast.PerClassSubset',
        num_per_class=1000,
        dataset=_base_.train_dataloader.dataset))
