# The CIFAR-10 JPEG copy (cifar10_jpeg_bs64.py) with a class-balanced
# training subset: the first 500 images of each class in file order (5,000
# images), the same in every run. The test split stays whole (10,000).
# Change num_per_class for another subset size.
_base_ = ['./cifar10_jpeg_bs64.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd_contrast.PerClassSubset',
        num_per_class=500,
        dataset=_base_.train_dataloader.dataset))
