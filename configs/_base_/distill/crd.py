# CRD (Tian et al., ICLR 2020), the distiller skeleton shared by the CRD
# configs. Objective: CE (the student's own loss) + 0.8 * CRD on the pooled
# features ('neck'), each side embedded to 128-d by a ProjectionHead, tau
# 0.07, bank momentum 0.5, each anchor's negatives distinct bank rows of
# other classes (the authors' CIFAR recipe; the labels come from
# data.gt_label).
#
# The defaults are CIFAR-100's: 50,000-row banks (one row per training
# image) and 16,384 negatives per anchor. A config that inherits this sets
# student, teacher and teacher_ckpt and the connectors' input widths:
#     connectors=dict(s_embed=dict(in_channels=...),
#                     t_embed=dict(in_channels=...)),
# and, for another training set, the bank size and the negatives:
#     distill_losses=dict(crd=dict(num_samples=..., num_negatives=...)).
model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student_taps=dict(feat='neck'),
    teacher_taps=dict(feat='neck'),
    connectors=dict(
        s_embed=dict(type='mmkd_contrast.ProjectionHead', out_channels=128),
        t_embed=dict(type='mmkd_contrast.ProjectionHead', out_channels=128)),
    distill_losses=dict(
        crd=dict(
            type='mmkd_contrast.CRDLoss',
            num_samples=50000,
            feat_dim=128,
            num_negatives=16384,
            temperature=0.07,
            momentum=0.5,
            neg_sampling='other_class',
            loss_weight=0.8)),
    loss_inputs=dict(
        crd=dict(
            s_emb=dict(tap='student.feat', connector='s_embed'),
            t_emb=dict(tap='teacher.feat', connector='t_embed'),
            sample_idx='data.sample_idx',
            labels='data.gt_label')),
)
