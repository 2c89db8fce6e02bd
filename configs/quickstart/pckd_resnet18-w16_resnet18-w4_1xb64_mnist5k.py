# Quickstart: the student distilled from the teacher with PCKD, the objective
# the authors released (no KD term; see _base_/distill/pckd.py). Each image
# gives its four rotated views (0/90/180/270 degrees, each randomly cropped
# like the baseline; no flip, as for every MNIST run here), so a batch is 64
# images = 256 samples. The 4-epoch schedule previews like the 240-epoch one:
# the threshold ends at 3.31. The feature widths differ (32 vs 128), so L_CA
# is left out (the log says so): L = CE + 0.05 * L_CC(v) + 20 * L_FA.
# The teacher checkpoint comes from step 1, e.g.
#   --cfg-options model.teacher_ckpt=<teacher run>/epoch_4.pth
# (the default is where tools/quickstart.py trains it)
_base_ = [
    '../_base_/models/mnist_resnet18_w16.py',
    '../_base_/models/mnist_resnet18_w4.py',
    '../_base_/datasets/embedded_mnist.py',
    '../_base_/schedules/embedded_mnist_4e.py',
    '../_base_/default_runtime.py',
    '../_base_/distill/pckd.py',
]

data_preprocessor = dict(type='mmkd_contrast.MultiViewClsDataPreprocessor')
train_pipeline = [
    dict(
        type='mmkd_contrast.RotationViews',
        flip_prob=0.0,
        view_pipeline=[dict(type='RandomCrop', crop_size=28, padding=2)]),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(
    student=_base_.mnist_resnet18_w4,
    teacher=_base_.mnist_resnet18_w16,
    teacher_ckpt='work_dirs/quickstart/teacher_resnet18-w16_1xb64_mnist5k/epoch_4.pth',
    preview=dict(final_threshold=3.31),
)
