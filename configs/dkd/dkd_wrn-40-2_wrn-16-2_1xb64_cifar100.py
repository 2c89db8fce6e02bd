# DKD (Zhao et al. 2022): wrn-40-2 -> wrn-16-2 on CIFAR-100 with the
# paper's settings for this pair: CE weight 1, alpha 1, beta 6,
# temperature 4, 20 warm-up epochs. Train the teacher first with
# configs/teachers/wrn-40-2_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/wrn_40_2.py',
    '../_base_/models/cifar/wrn_16_2.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/dkd.py',
]

model = dict(
    student=_base_.wrn_16_2,
    teacher=_base_.wrn_40_2,
    teacher_ckpt='work_dirs/wrn-40-2_1xb64_cifar100/epoch_240.pth',
    distill_losses=dict(dkd=dict(beta=6.0)),
)
