# PCKD (arXiv 2410.14143), the objective the authors released: the distiller
# part of a config; a PCKD config adds student, teacher and teacher_ckpt, and
# a rotated-view training pipeline (e.g. _base_/datasets/
# cifar100_rotation_views_bs64.py).
#
#   L = CE(unrotated) + beta * L_CC(v) + alpha * L_CA + f * L_FA
#
# with alpha 1, beta 0.05, f 20: the authors' released training command, which
# leaves the KD weight delta at 0 (no KD term). A "+kd" config sets
# model.distill_losses.kd = dict(type='mmkd_contrast.KDLoss', tau=4.0, loss_weight=1.0) to
# add delta * KD(v) on the unrotated views, delta = 1.
#
# v are the preview weights: 1 for a sample whose CE / batch-mean CE is at
# most base ** epoch, exp(-(CE / mean CE)^2) otherwise.
model = dict(
    type='mmkd_contrast.PCKDDistiller',
    # Pooled penultimate features f_s, f_t and the linear classifiers, whose
    # weights are the category centres W_s, W_t (with the biases for L_CA).
    student_taps=dict(
        feat='neck', centres='head.fc.weight', bias='head.fc.bias'),
    teacher_taps=dict(
        feat='neck', centres='head.fc.weight', bias='head.fc.bias'),
    # The trained heads, all fed with the student feature; the widths are
    # read from the classifiers. e_s: d_s -> d_s and e_t: d_s -> d_t, Linear
    # + L2 norm, for L_CC; g = Linear(d_s, 16 d_t) -> BN -> ReLU ->
    # Linear(., d_t) for L_FA (only built while distill_losses.fa is set).
    connectors=dict(
        s_embed=dict(type='mmkd_contrast.ProjectionHead'),
        t_embed=dict(type='mmkd_contrast.ProjectionHead'),
        s_align=dict(type='mmkd_contrast.ProjectionHead', norm=False)),
    distill_losses=dict(
        # No KD term (delta = 0), as released; see the "+kd" configs.
        kd=None,
        # beta = 0.05, tau = 4, tau_b = 0.07, on all 4B views.
        cc=dict(
            type='mmkd_contrast.CategoryContrastLoss',
            temperature=4.0,
            base_temperature=0.07,
            loss_weight=0.05),
        # alpha = 1; left out (and logged) when d_s != d_t.
        ca=dict(type='mmkd_contrast.CentreAlignLoss', loss_weight=1.0),
        # f = 20, on the s_align connector's output g(f_s).
        fa=dict(type='mmkd_contrast.FeatureAlignLoss', loss_weight=20.0)),
    # base 1.005 for 240 epochs (threshold 1.005 -> 3.31); give
    # final_threshold=3.31 instead to keep that end point on another
    # schedule length.
    preview=dict(type='mmkd_contrast.PreviewWeighting', base=1.005, final_threshold=None),
)
