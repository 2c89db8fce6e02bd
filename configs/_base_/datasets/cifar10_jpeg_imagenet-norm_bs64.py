# The CIFAR-10 JPEG copy (cifar10_jpeg_bs64.py) normalised with the ImageNet
# mean/std instead of CIFAR-10's: the normalisation the published CIFAR-10
# ResNets (configs/teachers/*_cifar10-pre_*) were trained with, so their
# converted weights see the inputs they expect. Students distilled from
# them share the teacher's preprocessor, hence the same normalisation.
_base_ = ['./cifar10_jpeg_bs64.py']

data_preprocessor = dict(
    # ImageNet mean / std of 0-1 pixels, times 255 (RGB).
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
)
