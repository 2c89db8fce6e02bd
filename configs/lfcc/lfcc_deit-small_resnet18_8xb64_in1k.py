# LFCC (arXiv 2405.18524): DeiT-S -> ResNet-18 on ImageNet-1k.
# CNN-student recipe: SGD lr 0.1 for batch 512 (8 GPUs x 64), wd 1e-4, lr
# x0.1 every 30 epochs, 100 epochs, label smoothing 0.1. Objective: CE + KD
# (tau 4, weight 1) + sum over two stages of the LFCC contrast (tau 0.1,
# symmetric, weight 1).
#
# Stages (the last two of each network; DeiT's 12 blocks read as 4 stages
# of 3 blocks):
#   stage3: ResNet-18 layer3 (256 ch, 14x14) <- DeiT-S block 8 (384 ch,
#           1 class token + 14x14 patch tokens)
#   stage4: ResNet-18 layer4 (512 ch, 7x7)   <- DeiT-S block 11 (384 ch)
# Student path: LearnableLowPassFilter -> CompactProjector (256 ch, 2x2).
# Teacher path: TokenToMap -> LowPassFilter -> CompactProjector (trained).
#
# Teacher: mmpretrain model-zoo DeiT-Small (deit-small_4xb256_in1k), put at
# checkpoints/deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth (download from
# download.openmmlab.com/mmclassification/v0/deit/); loaded strictly.
_base_ = [
    '../_base_/models/imagenet/deit_small.py',
    '../_base_/models/imagenet/resnet18.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_bs512_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_resnet18_student.py',
    '../_base_/distill/lfcc_deit_small_teacher.py',
]

student = _base_.resnet18
student.head.loss = dict(
    type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')

model = dict(
    student=student,
    teacher=_base_.deit_small,
    teacher_ckpt='checkpoints/'
    'deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth',
    **_base_.lfcc_deit_small_teacher)

# 64 images per GPU, 8 GPUs: the recipe's total batch of 512.
train_dataloader = dict(batch_size=64)
