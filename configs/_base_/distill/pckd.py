# PCKD (arXiv 2410.14143), the objective the authors released: the distiller
# part of a config; a PCKD config adds student, teacher and teacher_ckpt, and
# a rotated-view training pipeline (e.g. _base_/datasets/
# cifar100_rotation_views_bs64.py).
#
#   L = CE(unrotated) + beta * L_CC(v) + alpha * L_CA + f * L_FA
#
# v are the preview weights: 1 for a sample whose CE / batch-mean CE is at
# most base ** epoch, exp(-(CE / mean CE)^2) otherwise.
#
# The defaults are stated once, in mmkd_contrast/models/distillers/
# pckd_setup.py, and docs/pckd.md lists them: the taps (neck,
# head.fc.weight, head.fc.bias), the connectors e_s, e_t (Linear + L2 norm)
# and g (Linear -> BN -> ReLU -> Linear), the terms (DEFAULT_LOSSES: the
# authors' released command, beta 0.05, alpha 1, f 20, tau 4, tau_b 0.07, no
# KD term) and the preview (DEFAULT_PREVIEW: base 1.005 for 240 epochs).
# A config gives only what differs, key by key; a dict without `type` is
# merged over the default entry, e.g.
#   model = dict(preview=dict(final_threshold=3.31))
#   model = dict(distill_losses=dict(cc=dict(loss_weight=0.1), fa=None))
# and a "+kd" config adds the KD term (delta 1, tau 4) with
#   model = dict(distill_losses=dict(kd=dict(type='mmkd_contrast.KDLoss',
#                                            tau=4.0, loss_weight=1.0)))
model = dict(type='mmkd_contrast.PCKDDistiller')
