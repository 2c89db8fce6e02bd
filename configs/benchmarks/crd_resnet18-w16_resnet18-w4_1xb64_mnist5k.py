# CRD on the embedded MNIST subset, for benchmarks/accuracy_embedded.py (there
# is no CRD quickstart step): the quickstart teacher and student, CE + 0.8 * CRD
# on the pooled features, 128-d embeddings, tau 0.07, bank momentum 0.5,
# negatives drawn without replacement from the other classes.
# The banks hold one row per training image: num_samples must equal the size
# of the training set (4000 for the full split). num_negatives keeps the
# paper's CIFAR-100 ratio K / N = 16384 / 50000; the benchmark scales both when
# it trains on a subset.
# The teacher checkpoint comes from the quickstart teacher, e.g.
#   --cfg-options model.teacher_ckpt=work_dirs/<teacher run>/epoch_4.pth
_base_ = [
    '../_base_/models/mnist_resnet18_w16.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SingleTeacherDistiller',
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_resnet18_w16,
    teacher_ckpt='work_dirs/teacher_resnet18-w16_1xb64_mnist5k/epoch_4.pth',
    student_taps=dict(feat='neck'),
    teacher_taps=dict(feat='neck'),
    connectors=dict(
        s_embed=dict(type='ProjectionHead', in_channels=32, out_channels=128),
        t_embed=dict(type='ProjectionHead', in_channels=128,
                     out_channels=128)),
    distill_losses=dict(
        crd=dict(
            type='CRDLoss',
            num_samples=4000,
            feat_dim=128,
            num_negatives=1311,
            temperature=0.07,
            momentum=0.5,
            # Each anchor's negatives: distinct rows of other classes.
            neg_sampling='other_class',
            loss_weight=0.8)),
    loss_inputs=dict(
        crd=dict(
            s_emb=dict(tap='student.feat', connector='s_embed'),
            t_emb=dict(tap='teacher.feat', connector='t_embed'),
            sample_idx='data.sample_idx',
            labels='data.gt_label')),
)
