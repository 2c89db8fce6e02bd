# SGD CIFAR-10 benchmark: CRD (crd_resnet56_resnet8_sgd-6e_1xb64_
# cifar10-jpeg-1000pc.py) plus KD on the logits (tau 4, weight 1), as in
# the CRD paper's CRD+KD.
_base_ = ['./crd_resnet56_resnet8_sgd-6e_1xb64_cifar10-jpeg-1000pc.py']

model = dict(
    student_taps=dict(logits='head.fc'),
    teacher_taps=dict(logits='head.fc'),
    distill_losses=dict(
        kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)),
    loss_inputs=dict(
        kd=dict(s_logits='student.logits', t_logits='teacher.logits')),
)
