# LFCC (arXiv 2405.18524), the distiller skeleton shared by the LFCC configs.
# Objective: CE (the student's own loss) + KD on the logits (tau 4, weight 1)
# + the LFCC sample-level contrast on two stages (tau 0.1, symmetric,
# weight 1 each).
#
# A config that inherits this sets student, teacher and teacher_ckpt, the
# taps 'logits', 'stage3' and 'stage4' of both networks, and the four
# connectors, each a ConnectorSequence:
#   s_stage3 / s_stage4 (student): [TokenToMap (token features only),
#       LearnableLowPassFilter, CompactProjector]
#   t_stage3 / t_stage4 (teacher): [TokenToMap (token features only),
#       LowPassFilter, CompactProjector]
# Both projectors of a stage must give the same size (out_channels * grid^2).
# The lfcc_<student>_student.py files add a student's taps and chains on
# top of this; the lfcc_<teacher>_teacher.py files hold a teacher's taps and
# chains as a variable that a config spreads into its model (two bases may
# not both set model).
model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    distill_losses=dict(
        kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0),
        lfcc_stage3=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
        lfcc_stage4=dict(
            type='mmkd_contrast.LFCCLoss', temperature=0.1, symmetric=True,
            loss_weight=1.0),
    ),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits'),
        lfcc_stage3=dict(
            s_emb=dict(tap='student.stage3', connector='s_stage3'),
            t_emb=dict(tap='teacher.stage3', connector='t_stage3')),
        lfcc_stage4=dict(
            s_emb=dict(tap='student.stage4', connector='s_stage4'),
            t_emb=dict(tap='teacher.stage4', connector='t_stage4')),
    ),
)
