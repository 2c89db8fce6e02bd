# LFCC (arXiv 2405.18524): Swin-T -> ResNet-18 on ImageNet-1k.
# CNN-student recipe: SGD lr 0.1 for batch 512 (8 GPUs x 64), wd 1e-4, lr
# x0.1 every 30 epochs, 100 epochs, label smoothing 0.1. Objective: CE + KD
# (tau 4, weight 1) + sum over two stages of the LFCC contrast (tau 0.1,
# symmetric, weight 1).
#
# Stages (the last two of each network):
#   stage3: ResNet-18 layer3 (256 ch, 14x14) <- Swin-T stage 3 (384 ch,
#           14x14 tokens; the stage returns (tokens, (h, w)))
#   stage4: ResNet-18 layer4 (512 ch, 7x7)   <- Swin-T stage 4 (768 ch, 7x7)
# Student path: LearnableLowPassFilter -> CompactProjector (256 ch, 2x2).
# Teacher path: TokenToMap -> LowPassFilter -> CompactProjector (trained).
#
# Teacher: mmpretrain model-zoo Swin-T (swin-tiny_16xb64_in1k), put at
# checkpoints/swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth
# (from download.openmmlab.com/mmclassification/v0/swin-transformer/);
# loaded strictly. If the strict load reports backbone.norm.* (now norm3) or
# attn_mask keys, the file predates mmpretrain's current Swin layout:
# re-save it once through mmpretrain as docs/lfcc.md shows.
_base_ = [
    '../_base_/models/imagenet/swin_tiny.py',
    '../_base_/models/imagenet/resnet18.py',
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/schedules/imagenet_bs512_100e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_resnet18_student.py',
    '../_base_/distill/lfcc_swin_tiny_teacher.py',
]

student = _base_.resnet18
student.head.loss = dict(
    type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')

model = dict(
    student=student,
    teacher=_base_.swin_tiny,
    teacher_ckpt='checkpoints/'
    'swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth',
    **_base_.lfcc_swin_tiny_teacher)

# 64 images per GPU, 8 GPUs: the recipe's total batch of 512.
train_dataloader = dict(batch_size=64)
