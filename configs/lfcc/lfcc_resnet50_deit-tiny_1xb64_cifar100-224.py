# LFCC (arXiv 2405.18524): ResNet-50 -> DeiT-T on CIFAR-100 upsampled to
# 224x224 (the networks and stages of lfcc_resnet50_deit-tiny_8xb64_in1k.py,
# 100 classes). Student schedule: the ImageNet ViT-student recipe at batch
# 64 (AdamW lr 5e-4 * 64 / 512, wd 0.05, 20 warm-up epochs then cosine, 300
# epochs, Mixup 0.8, CutMix 1.0, label smoothing 0.1) on the CIFAR
# augmentation (no RandAugment). Objective: CE + KD (tau 4, weight 1) + sum
# over two stages of the LFCC contrast (tau 0.1, symmetric, weight 1).
#
# Stages (the last two of each network; DeiT's 12 blocks read as 4 stages
# of 3 blocks):
#   stage3: DeiT-T block 8 (192 ch, 1 class token + 14x14 patch tokens)
#           <- ResNet-50 layer3 (1024 ch, 14x14)
#   stage4: DeiT-T block 11 (192 ch) <- ResNet-50 layer4 (2048 ch, 7x7)
# Student path: TokenToMap -> LearnableLowPassFilter -> CompactProjector
# (256 ch, 2x2). Teacher path: LowPassFilter -> CompactProjector (trained).
#
# Teacher: ResNet-50 fine-tuned on CIFAR-100 at 224 by
# configs/teachers/resnet50_in1k-pre_1xb64_cifar100-224.py (which starts
# from the mmpretrain ImageNet checkpoint); loaded strictly.
_base_ = [
    '../_base_/models/imagenet/resnet50.py',
    '../_base_/models/imagenet/deit_tiny.py',
    '../_base_/datasets/cifar100_224_bs64.py',
    '../_base_/schedules/imagenet_adamw_300e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_deit_tiny_student.py',
    '../_base_/distill/lfcc_resnet50_teacher.py',
]

student = _base_.deit_tiny
student.head.num_classes = 100
student.head.loss = dict(
    type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')
# Mixup / CutMix run in the data preprocessor, so teacher and student see
# the same mixed images.
student.train_cfg = dict(augments=[
    dict(type='Mixup', alpha=0.8),
    dict(type='CutMix', alpha=1.0),
])

teacher = _base_.resnet50
teacher.head.num_classes = 100

model = dict(
    student=student,
    teacher=teacher,
    teacher_ckpt='work_dirs/resnet50_in1k-pre_1xb64_cifar100-224/'
    'epoch_30.pth',
    **_base_.lfcc_resnet50_teacher)

# The linear rule lr = 5e-4 * batch / 512 at one GPU x 64.
optim_wrapper = dict(optimizer=dict(lr=5e-4 * 64 / 512))
auto_scale_lr = dict(base_batch_size=64)
