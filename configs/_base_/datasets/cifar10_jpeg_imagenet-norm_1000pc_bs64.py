# The SGD CIFAR-10 benchmark's training data: the JPEG copy with the
# ImageNet normalisation of the published teachers
# (cifar10_jpeg_imagenet-norm_bs64.py), students trained on a class-balanced
# subset, the first 1,000 images of each class in file order (10,000
# images, the same in every run). The test split stays whole (10,000).
_base_ = ['./cifar10_jpeg_imagenet-norm_bs64.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmkd_contrast.PerClassSubset',
        num_per_class=1000,
        dataset=_base_.train_dataloader.dataset))
