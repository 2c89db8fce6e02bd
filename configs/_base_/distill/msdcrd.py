# MSDCRD (arXiv 2502.05835), the distiller skeleton shared by the MSDCRD configs:
# the last-stage map of each network ('backbone', the map the neck pools) is
# decoupled at scales 1, 2 and 4 into L2-normalised local features that feed the
# sample-wise and feature-wise contrastive terms. Total: CE + L_MSD.
#
# A config that inherits this sets student, teacher and teacher_ckpt; where the
# student's channels differ from the teacher's it adds a ChannelAligner and routes
# the student map through it:
#     connectors=dict(s_align=dict(type='mmkd_contrast.ChannelAligner', in_channels=...,
#                                  out_channels=...)),
#     loss_inputs=dict(msdcrd=dict(s_feat=dict(connector='s_align'))),
# and where the smaller map is under 4x4 it lowers the scales:
#     distill_losses=dict(msdcrd=dict(scales=(1, 2))).
model = dict(
    type='mmkd_contrast.SingleTeacherDistiller',
    student_taps=dict(feat='backbone'),
    teacher_taps=dict(feat='backbone'),
    distill_losses=dict(
        msdcrd=dict(
            type='mmkd_contrast.MSDCRDLoss',
            scales=(1, 2, 4),
            temperature=0.1,
            sample_weight=1.0,
            feature_weight=1.0,
            symmetric=False,
            loss_weight=1.0)),
    loss_inputs=dict(
        msdcrd=dict(s_feat=dict(tap='student.feat'), t_feat='teacher.feat')),
)
