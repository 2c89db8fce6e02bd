# A short schedule for the embedded MNIST quickstart (CPU, about a minute per
# run). AdamW converges far faster than SGD in so few iterations.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=5e-3, weight_decay=0.05))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=4)
train_cfg = dict(by_epoch=True, max_epochs=4, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
