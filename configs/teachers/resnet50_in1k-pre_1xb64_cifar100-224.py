# ResNet-50 fine-tuned on CIFAR-100 at 224x224 from the mmpretrain
# ImageNet-1k checkpoint, the teacher of configs/lfcc/lfcc_resnet50_deit-
# tiny_1xb64_cifar100-224.py. Put the ImageNet checkpoint at
# checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth (the backbone is
# loaded from it; the 100-class head starts fresh).
# Fine-tuning (this project's choice): SGD momentum 0.9, lr 0.01, wd 5e-4,
# cosine, 30 epochs, batch 64.
_base_ = [
    '../_base_/models/imagenet/resnet50.py',
    '../_base_/datasets/cifar100_224_bs64.py',
    '../_base_/default_runtime.py',
]

model = _base_.resnet50
model.head.num_classes = 100
model.backbone.init_cfg = dict(
    type='Pretrained',
    checkpoint='checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth',
    prefix='backbone')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=30)
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
