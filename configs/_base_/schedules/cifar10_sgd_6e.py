# The CIFAR distillation papers' optimiser on a short CPU schedule, the one
# of the SGD CIFAR-10 benchmark: SGD (momentum 0.9, weight decay 5e-4),
# batch 64, base lr 0.05, cosine decay to 0 over 6 epochs, updated every
# iteration; validated once, after the last epoch. The same for every row,
# CNN and ViT students alike.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=6,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=6, val_interval=6)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
