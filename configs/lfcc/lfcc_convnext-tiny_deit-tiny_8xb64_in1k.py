# LFCC (arXiv 2405.18524): ConvNeXt-T -> DeiT-T on ImageNet-1k.
# ViT-student recipe: AdamW lr 5e-4 for batch 512 (8 GPUs x 64), wd 0.05,
# 20 warm-up epochs then cosine, 300 epochs, RandAugment, Mixup 0.8, CutMix
# 1.0, label smoothing 0.1. Objective: CE + KD (tau 4, weight 1) + sum over
# two stages of the LFCC contrast (tau 0.1, symmetric, weight 1).
#
# Stages (the last two of each network; DeiT's 12 blocks read as 4 stages
# of 3 blocks):
#   stage3: DeiT-T block 8 (192 ch, 1 class token + 14x14 patch tokens)
#           <- ConvNeXt-T stage 3 (384 ch, 14x14)
#   stage4: DeiT-T block 11 (192 ch) <- ConvNeXt-T stage 4 (768 ch, 7x7)
# Student path: TokenToMap -> LearnableLowPassFilter -> CompactProjector
# (256 ch, 2x2). Teacher path: LowPassFilter -> CompactProjector (trained).
#
# Teacher: mmpretrain model-zoo ConvNeXt-T (convnext-tiny_32xb128_in1k), put
# at checkpoints/convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth (from
# download.openmmlab.com/mmclassification/v0/convnext/); loaded strictly.
_base_ = [
    '../_base_/models/imagenet/convnext_tiny.py',
    '../_base_/models/imagenet/deit_tiny.py',
    '../_base_/datasets/imagenet_bs64_randaug.py',
    '../_base_/schedules/imagenet_adamw_300e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_deit_tiny_student.py',
    '../_base_/distill/lfcc_convnext_tiny_teacher.py',
]

student = _base_.deit_tiny
student.head.loss = dict(
    type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')
# Mixup / CutMix run in the data preprocessor, so teacher and student see
# the same mixed images.
student.train_cfg = dict(augments=[
    dict(type='Mixup', alpha=0.8),
    dict(type='CutMix', alpha=1.0),
])

model = dict(
    student=student,
    teacher=_base_.convnext_tiny,
    teacher_ckpt='checkpoints/'
    'convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
    **_base_.lfcc_convnext_tiny_teacher)
