# MSDCRD (arXiv 2502.05835): vgg13 -> mobilenetv2 on CIFAR-100.
# CE + L_MSD on the last-stage maps: teacher 512, student 1280 channels.
# The student map goes through a ChannelAligner (1280 -> 512), used only in
# training.
# The student map is 2x2, so the scales are (1, 2).
# Train the teacher first with configs/teachers/vgg13_1xb64_cifar100.py.
_base_ = [
    '../_base_/models/cifar/vgg13.py',
    '../_base_/models/cifar/mobilenetv2_cifar.py',
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar100_bs64_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/msdcrd.py',
]

model = dict(
    student=_base_.mobilenetv2_cifar,
    teacher=_base_.vgg13,
    teacher_ckpt='work_dirs/vgg13_1xb64_cifar100/epoch_240.pth',
    connectors=dict(
        s_align=dict(
            type='mmkd_contrast.ChannelAligner', in_channels=1280, out_channels=512)),
    loss_inputs=dict(msdcrd=dict(s_feat=dict(connector='s_align'))),
    distill_losses=dict(msdcrd=dict(scales=(1, 2))),
)

# Lightweight students use lr 0.01 in the benchmark.
optim_wrapper = dict(optimizer=dict(lr=0.01))
