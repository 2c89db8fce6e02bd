# CRD+KD (Tian et al., ICLR 2020): wrn-40-2 -> wrn-16-2 on CIFAR-100, the
# paper's CRD+KD column: CE + KD (weight 1, tau 4) + 0.8 * CRD, with the CRD
# term of crd_wrn-40-2_wrn-16-2_1xb64_cifar100.py.
# Train the teacher first with
# configs/teachers/wrn-40-2_1xb64_cifar100.py.
_base_ = ['./crd_wrn-40-2_wrn-16-2_1xb64_cifar100.py']

model = dict(
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits')),
)
