"""The shipped configs the generated bad configs start from, set up as a
test trains them (a saved random teacher, batches of 4, a training set of
20), and their first batch.

Configs on the embedded MNIST data use their own loader; the others, whose
datasets cannot be downloaded here, get a synthetic batch of their input
size (CIFAR's 32x32, a 64x64 segmentation crop, a 128x128 detection image)
and a stand-in loader for the data checks.
"""
import copy
import os.path as osp
import tempfile
from types import SimpleNamespace

import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmkd_contrast.utils import build_in_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

#: Method name to (shipped config, where its batch comes from). 'mnist'
#: configs train on the embedded data; the others (whose datasets cannot
#: be downloaded here) get a synthetic batch of their input size.
BASES = {
    'kd': ('configs/quickstart/kd_resnet18-w16_resnet18-w4_1xb64_mnist5k.py',
           'mnist'),
    'crd': ('configs/benchmarks/crd_resnet18-w16_resnet18-w4_1xb64_mnist5k'
            '.py', 'mnist'),
    'crd+kd': ('configs/crd/crd+kd_wrn-40-2_wrn-16-2_1xb64_cifar100.py',
               'cls32'),
    'msdcrd': ('configs/quickstart/msdcrd_resnet18-w16_resnet18-w4_1xb64_'
               'mnist5k.py', 'mnist'),
    'pckd': ('configs/quickstart/pckd_resnet18-w16_resnet18-w4_1xb64_'
             'mnist5k.py', 'mnist'),
    'lfcc': ('configs/quickstart/lfcc_vit-tiny_resnet18-w4_1xb64_mnist5k.py',
             'mnist'),
    'mmseg-msdcrd': ('configs/mmseg/msdcrd_pspnet-r101-d8_pspnet-r18-d8_'
                     '4xb2-80k_cityscapes-512x1024.py', 'seg'),
    'mmdet-lfcc': ('configs/mmdet/lfcc_retinanet-r101_retinanet-r50_fpn_'
                   '1x_coco.py', 'det'),
}

#: Samples in a small training set, and per batch.
NUM_TRAIN = 20
BATCH = 4

_BASE_CACHE = {}
_SAVED = set()
_SCRATCH = []


def scratch_dir():
    """The folder of the saved checkpoints (a new temporary one per
    process)."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix='mmkd_mutants_'))
    return _SCRATCH[0]


def base_config(name):
    """The base config of method ``name`` as a dict, set up as a test
    trains it (its own random teacher, a small training set)."""
    if name not in _BASE_CACHE:
        path, source = BASES[name]
        cfg = Config.fromfile(osp.join(ROOT, path)).to_dict()
        model = cfg['model']
        if cfg.get('data_preprocessor') and \
                not model.get('data_preprocessor'):
            model['data_preprocessor'] = cfg['data_preprocessor']
        if model.get('init_cfg') is None:
            model.pop('init_cfg', None)
        for role in ('student', 'teacher'):
            # No download of pretrained backbones.
            model[role].get('backbone', {}).pop('init_cfg', None)
            model[role].pop('init_cfg', None)
            model[role].pop('pretrained', None)
            if source == 'seg':  # pad to the synthetic size, not 512x1024
                model[role]['data_preprocessor']['size'] = (64, 64)
        model['teacher_ckpt'] = osp.join(scratch_dir(), f'{name}_teacher.pth')
        for loss in (model.get('distill_losses') or {}).values():
            if isinstance(loss, dict) and 'num_samples' in loss:
                loss['num_samples'] = NUM_TRAIN
                loss['num_negatives'] = 8
        loader = cfg['train_dataloader']
        loader['batch_size'] = BATCH
        if source == 'mnist':
            loader['dataset']['train_subset_per_class'] = NUM_TRAIN // 10
        cfg['_source'] = source
        cfg['_base'] = name
        _BASE_CACHE[name] = cfg
    return copy.deepcopy(_BASE_CACHE[name])


def save_checkpoints(name):
    """Save the initial weights of base ``name``'s teacher (its
    ``teacher_ckpt``) and student, and an empty file, once."""
    if name in _SAVED:
        return
    model = base_config(name)['model']
    with DefaultScope.overwrite_default_scope('mmkd_contrast'):
        torch.manual_seed(0)
        teacher = build_in_scope(ConfigDict(model['teacher']))
        student = build_in_scope(ConfigDict(model['student']))
    torch.save(dict(state_dict=teacher.state_dict()), model['teacher_ckpt'])
    torch.save(dict(state_dict=student.state_dict()),
               osp.join(scratch_dir(), f'{name}_student.pth'))
    open(osp.join(scratch_dir(), 'empty.pth'), 'wb').close()
    _SAVED.add(name)


def _synthetic_batch(source, num_classes):
    """A raw batch (before the data preprocessor) of the input size the
    config trains on."""
    g = torch.Generator().manual_seed(0)
    size = dict(cls32=32, seg=64, det=128)[source]
    inputs = [torch.randint(0, 256, (3, size, size), generator=g,
                            dtype=torch.uint8) for _ in range(BATCH)]
    samples = []
    for i in range(BATCH):
        meta = dict(sample_idx=i, img_shape=(size, size),
                    ori_shape=(size, size), pad_shape=(size, size),
                    scale_factor=(1.0, 1.0))
        if source == 'cls32':
            from mmpretrain.structures import DataSample
            # Labels 3 and up: a classifier of 3 classes cannot take them.
            sample = DataSample(metainfo=meta).set_gt_label(
                int(torch.randint(3, num_classes, (1, ), generator=g)))
        elif source == 'seg':
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(data=torch.randint(
                0, 19, (1, size, size), generator=g))
        else:
            from mmdet.structures import DetDataSample
            from mmengine.structures import InstanceData
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[8., 8., 60., 70.], [30., 20., 120.,
                                                          100.]]),
                labels=torch.tensor([1, 5]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def loader_and_batch(cfg):
    """``(loader, first_batch)`` of a (mutated) base config: the real
    loader and its first batch for the embedded data, else a stand-in
    loader of :data:`NUM_TRAIN` samples and a synthetic batch."""
    source = cfg['_source']
    if source == 'mnist':
        loader_cfg = copy.deepcopy(cfg['train_dataloader'])
        loader_cfg['sampler'] = dict(type='DefaultSampler', shuffle=True,
                                     seed=0)
        with DefaultScope.overwrite_default_scope('mmkd_contrast'):
            loader = Runner.build_dataloader(loader_cfg, seed=0)
        return loader, lambda: next(iter(loader))
    num_classes = base_config(cfg['_base'])['model']['student'].get(
        'head', {}).get('num_classes', 10)
    loader = SimpleNamespace(dataset=_Sized(NUM_TRAIN, num_classes),
                             batch_size=BATCH, drop_last=False,
                             sampler=range(NUM_TRAIN))
    return loader, lambda: _synthetic_batch(source, num_classes)


class _Sized:
    """A stand-in training set of ``length`` samples and ``num_classes``
    classes, for the data check of a synthetic batch."""

    def __init__(self, length, num_classes):
        self.length = length
        self.metainfo = dict(classes=[str(i) for i in range(num_classes)])

    def __len__(self):
        return self.length
