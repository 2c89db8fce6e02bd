"""The converter of the published CIFAR-10 ResNets: a synthetic file with
the published layout everywhere, the real files where they are present."""
import hashlib
import importlib.util
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from tool_helpers import ROOT, run_tool

from mmkd_contrast.models.distillers import SingleTeacherDistiller
from mmkd_contrast.utils import build_in_scope

WEIGHTS = osp.join(osp.dirname(ROOT), 'shared', 'weights', 'cifar10-resnet')
KD_CFG = osp.join(ROOT, 'configs', 'benchmarks',
                  'kd_resnet56_resnet8_sgd-6e_1xb64_cifar10-jpeg-1000pc.py')
TEACHER_CFG = osp.join(ROOT, 'configs', 'teachers',
                       'resnet{}_cifar10-pre_1xb64_cifar10-jpeg.py')


def load_converter():
    spec = importlib.util.spec_from_file_location(
        'cifar10_resnet_to_mmkd',
        osp.join(ROOT, 'tools', 'model_converters',
                 'cifar10_resnet_to_mmkd.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def published_layout(blocks, seed=0):
    """A state dict with the published keys (``module.`` prefix, no
    ``num_batches_tracked``, option-A blocks) and random values."""
    generator = torch.Generator().manual_seed(seed)
    state = {}

    def put(key, *shape):
        state['module.' + key] = torch.rand(shape, generator=generator)

    def bn(key, width):
        for entry in ('weight', 'bias', 'running_mean'):
            put(f'{key}.{entry}', width)
        state[f'module.{key}.running_var'] = 0.5 + torch.rand(
            (width, ), generator=generator)

    put('conv1.weight', 16, 3, 3, 3)
    bn('bn1', 16)
    in_channels = 16
    for stage, width in enumerate((16, 32, 64)):
        for index in range(blocks):
            name = f'layer{stage + 1}.{index}'
            put(f'{name}.conv1.weight', width, in_channels, 3, 3)
            bn(f'{name}.bn1', width)
            put(f'{name}.conv2.weight', width, width, 3, 3)
            bn(f'{name}.bn2', width)
            in_channels = width
    put('linear.weight', 10, 64)
    put('linear.bias', 10)
    return state


def save_published(path, state):
    torch.save(dict(best_prec1=91.0, state_dict=state), path)
    digest = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    named = osp.join(osp.dirname(path), f'resnet20-{digest[:8]}.th')
    os.rename(path, named)
    return named


def teacher_model(depth):
    cfg = Config.fromfile(TEACHER_CFG.format(depth))
    return build_in_scope(cfg.model)


def test_synthetic_file_converts_and_loads_strictly(tmp_path):
    src = save_published(str(tmp_path / 'src.th'), published_layout(3))
    dst = str(tmp_path / 'resnet20.pth')
    meta = load_converter().convert(src, dst, check_sha256=True)
    assert meta['arch'] == 'resnet20'
    assert meta['source_sha256'].startswith(osp.basename(src)[9:17])
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    model = teacher_model(20)
    model.load_state_dict(ckpt['state_dict'], strict=True)
    source = torch.load(src, weights_only=True)['state_dict']
    assert torch.equal(model.backbone.layer3[2].conv2.weight,
                       source['module.layer3.2.conv2.weight'])
    assert torch.equal(model.head.fc.bias, source['module.linear.bias'])


def test_converted_file_is_a_distiller_teacher(tmp_path):
    src = save_published(str(tmp_path / 'src.th'), published_layout(3))
    dst = str(tmp_path / 'resnet20.pth')
    load_converter().convert(src, dst)
    cfg = Config.fromfile(KD_CFG)
    cfg.model.teacher = Config.fromfile(TEACHER_CFG.format(20)).model
    cfg.model.teacher_ckpt = dst
    cfg.model.data_preprocessor = cfg.data_preprocessor
    distiller = build_in_scope(cfg.model)
    assert isinstance(distiller, SingleTeacherDistiller)
    assert torch.equal(distiller.teacher.head.fc.bias,
                       torch.load(src, weights_only=True)
                       ['state_dict']['module.linear.bias'])


def test_refuses_wrong_shape_missing_and_extra_keys(tmp_path):
    converter = load_converter()
    cases = [
        ('module.layer2.0.conv1.weight', torch.zeros(32, 32, 3, 3),
         ValueError, 'layer2.0.conv1.weight'),
        ('module.layer1.1.bn2.running_var', None, KeyError,
         'layer1.1.bn2.running_var'),
        ('module.layer2.0.downsample.0.weight', torch.zeros(32, 16, 1, 1),
         KeyError, 'layer2.0.downsample.0.weight'),
    ]
    for index, (key, value, error, named) in enumerate(cases):
        state = published_layout(3)
        if value is None:
            del state[key]
        else:
            state[key] = value
        src = str(tmp_path / f'bad{index}.th')
        torch.save(dict(state_dict=state), src)
        with pytest.raises(error, match=named):
            converter.convert(src, str(tmp_path / f'out{index}.pth'))
        assert not osp.exists(tmp_path / f'out{index}.pth')


def test_never_overwrites_and_checks_sha256_prefix(tmp_path):
    converter = load_converter()
    src = save_published(str(tmp_path / 'src.th'), published_layout(3))
    dst = tmp_path / 'out.pth'
    dst.write_bytes(b'precious')
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        converter.convert(src, str(dst))
    assert dst.read_bytes() == b'precious'
    wrong = str(tmp_path / 'resnet20-00000000.th')
    os.rename(src, wrong)
    with pytest.raises(ValueError, match='does not start with the prefix'):
        converter.convert(wrong, str(tmp_path / 'new.pth'),
                          check_sha256=True)
    proc = run_tool('model_converters/cifar10_resnet_to_mmkd.py', wrong,
                    str(tmp_path / 'new.pth'), '--check-sha256', check=False)
    assert proc.returncode != 0 and '00000000' in proc.stderr
    assert not osp.exists(tmp_path / 'new.pth')


@pytest.mark.skipif(not osp.isdir(WEIGHTS),
                    reason=f'published CIFAR-10 ResNets not present at '
                    f'{WEIGHTS} (they are never part of the repository)')
@pytest.mark.parametrize('name,depth', [('resnet20-12fca82f.th', 20),
                                        ('resnet32-d509ac18.th', 32),
                                        ('resnet56-4bfd9763.th', 56)])
def test_published_file_converts_and_classifies(tmp_path, name, depth):
    dst = str(tmp_path / f'resnet{depth}.pth')
    meta = load_converter().convert(osp.join(WEIGHTS, name), dst,
                                    check_sha256=True)
    assert meta['arch'] == f'resnet{depth}'
    model = teacher_model(depth)
    model.load_state_dict(
        torch.load(dst, weights_only=True)['state_dict'], strict=True)
    model.eval()
    # A flat mid-grey image is not a class, but the logits of a working
    # network are finite and not all equal.
    with torch.no_grad():
        logits = model(torch.zeros(2, 3, 32, 32), mode='tensor')
    assert torch.isfinite(logits).all() and logits.std() > 0
