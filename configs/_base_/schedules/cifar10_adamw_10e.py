# A short CPU schedule for the CIFAR-10 benchmark: AdamW (lr 2e-3, weight
# decay 0.05), 100 warm-up iterations, then cosine decay to 0 over 10
# epochs, updated every iteration; validated once, after the last epoch.
# The same for every student row, CNN and ViT.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=10,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
