# The CNN teacher of the CIFAR-10 benchmark (benchmarks/accuracy_cifar10.py):
# resnet20 trained alone on the whole 50,000-image training split of the
# JPEG copy, AdamW (lr 2e-3, weight decay 0.05), 100 warm-up iterations,
# cosine decay over 3 epochs (a CPU-sized schedule).
_base_ = [
    '../_base_/models/cifar10/resnet20.py',
    '../_base_/datasets/cifar10_jpeg_bs64.py',
    '../_base_/schedules/cifar10_adamw_10e.py',
    '../_base_/default_runtime.py',
]

model = _base_.cifar10_resnet20

param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=3,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=3, val_interval=3)
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=3, save_best=None))
