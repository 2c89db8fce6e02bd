# PCKD+KD: wrn-40-2 -> wrn-16-2 on CIFAR-100, PCKD's released objective
# (pckd_wrn-40-2_wrn-16-2_1xb64_cifar100.py) plus the
# preview-weighted KD term on the unrotated views with delta = 1, tau 4:
#   L = CE + KD(v) + 0.05 * L_CC(v) + L_CA + 20 * L_FA.
# The authors' code has this term but their released command leaves it off.
_base_ = ['./pckd_wrn-40-2_wrn-16-2_1xb64_cifar100.py']

model = dict(
    distill_losses=dict(
        kd=dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0)))
