# DKD (Zhao et al., CVPR 2022), the distiller skeleton shared by the DKD
# configs: CE (the student's own loss) + DKD on the logits, with the paper's
# CIFAR-100 settings alpha 1 (TCKD), beta 8 (NCKD), temperature 4, and the
# term ramped up linearly over the first 20 epochs (DistillEpochHook, in the
# shared runtime, tells the loss the epoch). DKD needs the labels: they come
# from the data samples (data.gt_label).
#
# A config that inherits this sets student, teacher and teacher_ckpt, and
# changes what differs, e.g. beta 6 for WRN-40-2 -> WRN-16-2:
#     distill_losses=dict(dkd=dict(beta=6.0)).
model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(
        dkd=dict(
            type='mmkd_contrast.DKDLoss',
            alpha=1.0,
            beta=8.0,
            temperature=4.0,
            loss_weight=1.0,
            warmup_epochs=20)),
    loss_inputs=dict(
        dkd=dict(
            s_logits='student.logits',
            t_logits='teacher.logits',
            labels='data.gt_label')),
)
