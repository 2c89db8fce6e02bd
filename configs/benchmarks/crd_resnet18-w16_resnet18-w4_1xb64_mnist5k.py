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
    '../_base_/distill/crd.py',
]

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_resnet18_w16,
    teacher_ckpt='work_dirs/teacher_resnet18-w16_1xb64_mnist5k/epoch_4.pth',
    connectors=dict(
        s_embed=dict(in_channels=32),
        t_embed=dict(in_channels=128)),
    distill_losses=dict(
        crd=dict(num_samples=4000, num_negatives=1311)),
)
