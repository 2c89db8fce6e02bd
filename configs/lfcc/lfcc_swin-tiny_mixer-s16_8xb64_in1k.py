# LFCC (arXiv 2405.18524): Swin-T -> MLP-Mixer-S/16 on ImageNet-1k.
# ViT / MLP-student recipe: AdamW lr 5e-4 for batch 512 (8 GPUs x 64), wd
# 0.05, 20 warm-up epochs then cosine, 300 epochs, RandAugment, Mixup 0.8,
# CutMix 1.0, label smoothing 0.1. Objective: CE + KD (tau 4, weight 1) +
# sum over two stages of the LFCC contrast (tau 0.1, symmetric, weight 1).
#
# The student is mmpretrain's smallest MLP backbone, MlpMixer arch 's'
# (18.5M parameters, 8 blocks of 512 channels on 14x14 tokens).
#
# Stages (the last two of each network; the Mixer's 8 blocks read as 4
# stages of 2 blocks):
#   stage3: Mixer block 5 (512 ch, 14x14 tokens (B, N, C))
#           <- Swin-T stage 3 (384 ch, 14x14 tokens; the stage returns
#           (tokens, (h, w)))
#   stage4: Mixer block 7 (512 ch) <- Swin-T stage 4 (768 ch, 7x7)
# Student path: TokenToMap -> LearnableLowPassFilter -> CompactProjector
# (256 ch, 2x2). Teacher path: TokenToMap -> LowPassFilter ->
# CompactProjector (trained).
#
# Teacher: mmpretrain model-zoo Swin-T (swin-tiny_16xb64_in1k), put at
# checkpoints/swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth
# (from download.openmmlab.com/mmclassification/v0/swin-transformer/);
# loaded strictly. If the strict load reports backbone.norm.* (now norm3) or
# attn_mask keys, the file predates mmpretrain's current Swin layout:
# re-save it once through mmpretrain as docs/lfcc.md shows.
_base_ = [
    '../_base_/models/imagenet/swin_tiny.py',
    '../_base_/models/imagenet/mixer_s16.py',
    '../_base_/datasets/imagenet_bs64_randaug.py',
    '../_base_/schedules/imagenet_adamw_300e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_mixer_s16_student.py',
    '../_base_/distill/lfcc_swin_tiny_teacher.py',
]

student = _base_.mixer_s16
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
    teacher=_base_.swin_tiny,
    teacher_ckpt='checkpoints/'
    'swin_tiny_224_b16x64_300e_imagenet_20210616_090925-66df6be6.pth',
    **_base_.lfcc_swin_tiny_teacher)
