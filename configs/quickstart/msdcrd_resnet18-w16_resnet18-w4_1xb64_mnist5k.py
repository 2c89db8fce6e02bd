# Quickstart: the student distilled from the teacher with MSDCRD (CE + L_MSD on
# the last-stage maps, 4x4; the student's 32 channels are mapped to the
# teacher's 128 by a training-only ChannelAligner).
# The teacher checkpoint comes from step 1, e.g.
#   --cfg-options model.teacher_ckpt=<teacher run>/epoch_4.pth
# (the default is where tools/quickstart.py trains it)
_base_ = [
    '../_base_/models/mnist_resnet18_w16.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_resnet18_w16,
    teacher_ckpt='work_dirs/quickstart/teacher_resnet18-w16_1xb64_mnist5k/epoch_4.pth',
    connectors=dict(
        s_align=dict(type='mmkd_contrast.ChannelAligner', in_channels=32, out_channels=128)),
    loss_inputs=dict(msdcrd=dict(s_feat=dict(connector='s_align'))),
)
