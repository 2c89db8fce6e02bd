# CIFAR-10 benchmark: resnet8 distilled from the resnet20 teacher with CRD:
# CE + 0.8 * CRD on the pooled features (128-d embeddings, tau 0.07, bank
# momentum 0.5), negatives drawn from the other classes. The banks hold one
# row per training image of the subset (5,000); num_negatives keeps the
# paper's CIFAR-100 ratio K / N = 16384 / 50000 (1638 of 5000).
_base_ = [
    '../_base_/models/cifar10/resnet20.py',
    '../_base_/models/cifar10/resnet8.py',
    '../_base_/datasets/cifar10_jpeg_500pc_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SingleTeacherDistiller',
    student=_base_.cifar10_resnet8,
    teacher=_base_.cifar10_resnet20,
    teacher_ckpt='work_dirs/resnet20_1xb64_cifar10-jpeg/epoch_3.pth',
    student_taps=dict(feat='neck'),
    teacher_taps=dict(feat='neck'),
    connectors=dict(
        s_embed=dict(type='ProjectionHead', in_channels=64, out_channels=128),
        t_embed=dict(type='ProjectionHead', in_channels=64,
                     out_channels=128)),
    distill_losses=dict(
        crd=dict(
            type='CRDLoss',
            num_samples=5000,
            feat_dim=128,
            num_negatives=1638,
            temperature=0.07,
            momentum=0.5,
            neg_sampling='other_class',
            loss_weight=0.8)),
    loss_inputs=dict(
        crd=dict(
            s_emb=dict(tap='student.feat', connector='s_embed'),
            t_emb=dict(tap='teacher.feat', connector='t_embed'),
            sample_idx='data.sample_idx',
            labels='data.gt_label')),
)

# The memory banks are identical on every rank; no need to broadcast them.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', broadcast_buffers=False)
