# LFCC (arXiv 2405.18524): Swin-T -> ResNet-18 on CIFAR-100 upsampled to
# 224x224 (the networks and stages of lfcc_swin-tiny_resnet18_8xb64_in1k.py,
# 100 classes). Student schedule: the CIFAR KD benchmark's (SGD lr 0.05,
# batch 64, wd 5e-4, x0.1 at epochs 150/180/210, 240 epochs), with label
# smoothing 0.1 as in the ImageNet recipe. Objective: CE + KD (tau 4,
# weight 1) + sum over two stages of the LFCC contrast (tau 0.1, symmetric,
# weight 1).
#
# Stages (the last two of each network):
#   stage3: ResNet-18 layer3 (256 ch, 14x14) <- Swin-T stage 3 (384 ch,
#           14x14 tokens; the stage returns (tokens, (h, w)))
#   stage4: ResNet-18 layer4 (512 ch, 7x7)   <- Swin-T stage 4 (768 ch, 7x7)
# Student path: LearnableLowPassFilter -> CompactProjector (256 ch, 2x2).
# Teacher path: TokenToMap -> LowPassFilter -> CompactProjector (trained).
#
# Teacher: Swin-T fine-tuned on CIFAR-100 at 224 by
# configs/teachers/swin-tiny_in1k-pre_1xb64_cifar100-224.py (which starts
# from the mmpretrain ImageNet checkpoint); loaded strictly.
_base_ = [
    '../_base_/models/imagenet/swin_tiny.py',
    '../_base_/models/imagenet/resnet18.py',
    '../_base_/datasets/cifar100_224_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/lfcc_resnet18_student.py',
    '../_base_/distill/lfcc_swin_tiny_teacher.py',
]

student = _base_.resnet18
student.head.num_classes = 100
student.head.loss = dict(
    type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')

teacher = _base_.swin_tiny
teacher.head.num_classes = 100

model = dict(
    student=student,
    teacher=teacher,
    teacher_ckpt='work_dirs/swin-tiny_in1k-pre_1xb64_cifar100-224/'
    'epoch_30.pth',
    **_base_.lfcc_swin_tiny_teacher)
