# PCKD (arXiv 2410.14143): ResNet-34 -> ResNet-18 on ImageNet-1k (mmpretrain
# backbones), 8 GPUs x 32 images (x 4 rotated views = 128 samples per GPU), the
# 100-epoch ImageNet schedule. The authors' released CIFAR objective (no KD
# term; alpha 1, beta 0.05, f 20); the preview threshold ends at 3.31 like the
# 240-epoch CIFAR schedule (final_threshold, so base = 3.31 ** (1 / 100)).
_base_ = [
    '../_base_/models/imagenet/resnet34.py',
    '../_base_/models/imagenet/resnet18.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_bs256_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/pckd.py',
]

# One random flip, the four rotations of the whole image, then a
# RandomResizedCrop 224 of each view; validation keeps the standard pipeline.
data_preprocessor = dict(type='mmkd_contrast.MultiViewClsDataPreprocessor')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='mmkd_contrast.RotationViews',
        flip_prob=0.5,
        view_pipeline=[dict(type='RandomResizedCrop', scale=224)]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    student=_base_.resnet18,
    teacher=_base_.resnet34,
    # mmpretrain's ImageNet ResNet-34 (73.6 top-1); or a local checkpoint.
    teacher_ckpt='https://download.openmmlab.com/mmclassification/v0/resnet/'
    'resnet34_batch256_imagenet_20200708-32ffb4f7.pth',
    preview=dict(final_threshold=3.31),
)
