# The rotated-view CIFAR-10 JPEG pipeline for PCKD
# (cifar10_jpeg_rotation_views_bs64.py) on the class-balanced training
# subset of cifar10_jpeg_500pc_bs64.py: the first 500 images of each class.
_base_ = ['./cifar10_jpeg_rotation_views_bs64.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd_contrast.PerClassSubset',
        num_per_class=500,
        dataset=_base_.train_dataloader.dataset))
