# Quickstart teacher for LFCC, a tiny ViT (a token network teaching the CNN
# student: the heterogeneous case LFCC is for), trained on the embedded MNIST
# subset. tools/quickstart.py trains it (once) before the LFCC step.
# A ViT learns slowly from 4000 images: 20 epochs (AdamW lr 2e-3, 20 warm-up
# iterations, cosine) reach about 94% top-1 where 4 epochs reach about 50%.
_base_ = [
    '../_base_/models/mnist_vit_tiny.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
]
model = _base_.mnist_vit_tiny

optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.05, by_epoch=False, end=20),
    dict(type='CosineAnnealingLR', by_epoch=True, T_max=20),
]
train_cfg = dict(max_epochs=20)
