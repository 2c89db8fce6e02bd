# Quickstart, another step 3: the student distilled from the teacher with
# DKD (alpha 1, beta 8, temperature 4; no warm-up: 20 of 240 epochs is
# less than one of these 4). The teacher checkpoint comes from
# step 1, e.g.
#   --cfg-options model.teacher_ckpt=<teacher run>/epoch_4.pth
# (the default is where tools/quickstart.py trains it)
_base_ = [
    '../_base_/models/mnist_resnet18_w16.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/dkd.py',
]

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_resnet18_w16,
    teacher_ckpt='work_dirs/quickstart/teacher_resnet18-w16_1xb64_mnist5k/epoch_4.pth',
    distill_losses=dict(dkd=dict(warmup_epochs=0)),
)
