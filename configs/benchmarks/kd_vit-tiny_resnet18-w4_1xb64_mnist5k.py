# KD from the tiny ViT teacher of the LFCC quickstart, for
# benchmarks/accuracy_embedded.py: LFCC's objective is CE + KD + the LFCC
# contrast, so KD from the same (other-family) teacher is the reference that
# isolates what the LFCC terms add.
# The teacher checkpoint comes from teacher_vit-tiny_1xb64_mnist5k.py, e.g.
#   --cfg-options model.teacher_ckpt=work_dirs/<teacher run>/epoch_4.pth
_base_ = [
    '../_base_/models/mnist_vit_tiny.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/kd.py',
]

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_vit_tiny,
    teacher_ckpt='work_dirs/teacher_vit-tiny_1xb64_mnist5k/epoch_4.pth',
    teacher_taps=dict(logits='head.layers.head'),
)
