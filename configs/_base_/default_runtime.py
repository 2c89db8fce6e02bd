# Runtime shared by every config of this project.
default_scope = 'mmkd_contrast'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3,
        save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)

# RandomStateHook saves the Python, numpy and torch random states in every
# checkpoint and restores them on --resume, so a resumed run continues
# exactly. FiniteLossHook stops training at the first non-finite logged loss
# (read on the host after the step, no extra sync), naming the term and the
# iteration, before a checkpoint of the poisoned weights is written.
# TeacherWeightsHook stops a distiller whose teacher got no trained weights
# before the first iteration (models that are not distillers pass).
# TeacherLogitsHook lets a distiller's evaluation run the teacher (once per
# batch) only while an evaluator holds mmkd_contrast.TeacherAgreement; it
# does nothing otherwise. Scoped, so they resolve whatever the default scope
# (mmpretrain configs import us).
custom_hooks = [
    dict(type='mmkd_contrast.RandomStateHook'),
    dict(type='mmkd_contrast.FiniteLossHook'),
    dict(type='mmkd_contrast.TeacherWeightsHook'),
    dict(type='mmkd_contrast.TeacherLogitsHook'),
    dict(type='mmkd_contrast.DistillEpochHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
