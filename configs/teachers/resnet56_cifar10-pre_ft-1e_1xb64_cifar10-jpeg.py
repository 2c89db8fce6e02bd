# Fine-tune the converted published resnet56 (option A, CIFAR-10) on all
# 50,000 images of the JPEG copy, so that the teacher is adapted to the
# JPEG artefacts (quality about 75, chroma subsampling) that the students
# see and the published weights never saw. SGD (momentum 0.9, weight decay
# 5e-4), batch 64, lr 0.01 (a fifth of the from-scratch 0.05) with cosine
# decay to 0 over 1 epoch (782 iterations; one epoch is what a shared
# 2-core CPU affords), the usual crop and flip;
# tested at the end. Convert the published file first:
#   python tools/model_converters/cifar10_resnet_to_mmkd.py \
#       resnet56-4bfd9763.th \
#       work_dirs/teachers_cifar10/resnet56_cifar10-pre.pth
_base_ = ['./resnet56_cifar10-pre_1xb64_cifar10-jpeg.py']

load_from = 'work_dirs/teachers_cifar10/resnet56_cifar10-pre.pth'

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=1,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
