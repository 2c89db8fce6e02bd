# resnet20 with "option A" shortcuts and the published CIFAR-10 weights,
# converted by tools/model_converters/cifar10_resnet_to_mmkd.py (see
# docs/cifar10_teachers.md), on the CIFAR-10 JPEG copy with the ImageNet
# normalisation those weights expect. Evaluate with
#   python tools/test.py THIS_CONFIG resnet20_cifar10-pre.pth
# The schedule is the SGD benchmark's (a base for fine-tuning, as in
# resnet56_cifar10-pre_ft-1e_1xb64_cifar10-jpeg.py); the published
# weights were trained for 200 epochs by their authors.
_base_ = [
    '../_base_/models/cifar10/resnet_zero_pad.py',
    '../_base_/datasets/cifar10_jpeg_imagenet-norm_bs64.py',
    '../_base_/schedules/cifar10_sgd_6e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_resnet20_zero_pad
