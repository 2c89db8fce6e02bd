# ImageNet ViT / MLP-student schedule of the heterogeneous-distillation
# benchmark: AdamW, lr 5e-4 for a total batch of 512 (8 GPUs x 64; the
# linear rule lr = 5e-4 * batch / 512), weight decay 0.05 (none on norms,
# biases, class token and position embedding), 20 linear warm-up epochs
# (updated per iteration), then cosine decay to 1e-5, 300 epochs.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW',
        lr=5e-4,
        weight_decay=0.05,
        eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        end=20,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=20),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# lr 5e-4 is for a total batch of 512; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=512)
