# KD (Hinton et al., 2015), the distiller skeleton shared by the KD configs:
# CE (the student's own loss) + KD on the logits (tau 4, weight 1).
#
# A config that inherits this sets student, teacher and teacher_ckpt; a
# network whose classifier is not 'head.fc' (an mmpretrain ViT's is
# 'head.layers.head') gets its own logits tap:
#     student_taps=dict(logits='head.layers.head'),
# and a recipe with other weights changes them:
#     distill_losses=dict(kd=dict(loss_weight=0.9)).
model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits')),
)
