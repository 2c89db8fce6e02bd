# CIFAR-10 benchmark: CRD+KD, the CRD paper's combined objective:
# CE + KD (tau 4, weight 1) + 0.8 * CRD, everything else as in
# crd_resnet20_resnet8_1xb64_cifar10-jpeg-500pc.py.
_base_ = ['./crd_resnet20_resnet8_1xb64_cifar10-jpeg-500pc.py']

model = dict(
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits')),
)
