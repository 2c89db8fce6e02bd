# CRD+KD (Tian et al., ICLR 2020): resnet32x4 -> resnet8x4 on CIFAR-100, the
# paper's CRD+KD column: CE + KD (weight 1, tau 4) + 0.8 * CRD, with the CRD
# term of crd_resnet32x4_resnet8x4_1xb64_cifar100.py.
# Train the teacher first with
# configs/teachers/resnet32x4_1xb64_cifar100.py.
_base_ = ['./crd_resnet32x4_resnet8x4_1xb64_cifar100.py']

model = dict(
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits')),
)
