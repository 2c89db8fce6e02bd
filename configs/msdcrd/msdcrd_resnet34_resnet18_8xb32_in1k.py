# MSDCRD (arXiv 2502.05835): ResNet-34 -> ResNet-18 on ImageNet-1k (mmpretrain
# backbones), CE + L_MSD on the last-stage maps (512 channels each, 7x7 at
# 224x224 input; same channels, so no aligner), 100 epochs, 8 GPUs x 32 images.
#
# Teacher weights: mmpretrain's ImageNet ResNet-34 (73.62 top-1), whose keys
# (backbone.*, head.fc.*) match the teacher as configured here:
#   mkdir -p checkpoints && wget -P checkpoints https://download.openmmlab.com/mmclassification/v0/resnet/resnet34_8xb32_in1k_20210831-f257d4e6.pth
# A torchvision state dict (conv1.*, layer1.*, fc.*) has other key names and
# must be renamed to backbone.* / head.fc.* before it loads.
_base_ = [
    '../_base_/models/imagenet/resnet34.py',
    '../_base_/models/imagenet/resnet18.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_bs256_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.resnet18,
    teacher=_base_.resnet34,
    teacher_ckpt='checkpoints/resnet34_8xb32_in1k_20210831-f257d4e6.pth',
)
