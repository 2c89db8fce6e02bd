# ImageNet CNN-student schedule of the heterogeneous-distillation benchmark:
# SGD momentum 0.9, lr 0.1 for a total batch of 512 (8 GPUs x 64), weight
# decay 1e-4, lr x0.1 every 30 epochs, 100 epochs. Label smoothing (0.1)
# belongs to the student's head loss, set in each config.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[30, 60, 90], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 0.1 is for a total batch of 512; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=512)
