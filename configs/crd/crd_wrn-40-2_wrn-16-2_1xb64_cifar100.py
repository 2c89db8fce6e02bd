# CRD (Tian et al., ICLR 2020): wrn-40-2 -> wrn-16-2 on CIFAR-100.
# CE + 0.8 * CRD, 128-d embeddings, 16384 negatives per anchor drawn without
# replacement from the other classes (the authors' CIFAR recipe), tau 0.07,
# bank momentum 0.5.
_base_ = [
    '../_base_/models/cifar/wrn_40_2.py',
    '../_base_/models/cifar/wrn_16_2.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/crd.py',
]

model = dict(
    student=_base_.wrn_16_2,
    teacher=_base_.wrn_40_2,
    teacher_ckpt='work_dirs/wrn-40-2_1xb64_cifar100/epoch_240.pth',
    connectors=dict(
        s_embed=dict(in_channels=128),
        t_embed=dict(in_channels=128)),
)

# The memory banks are identical on every rank; no need to broadcast them.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', broadcast_buffers=False)
