import os
import os.path as osp
import re
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))

# What OpenMMLab's mim looks for inside an installed package, in <pkg>/.mim:
# the configs (`mim train mmkd_contrast CONFIG` finds a config by its file
# name), the tools (it runs .mim/tools/train.py / test.py) and the model
# index (`mim search mmkd_contrast`).
MIM_ITEMS = ('configs', 'tools', 'model-index.yml')


def add_mim_extension():
    """Lay out ``mmkd_contrast/.mim`` before the package is built.

    A regular install or a wheel gets copies of the items (they ship inside
    the package); an editable install gets symbolic links to the checkout,
    so that edits to the configs and tools show without reinstalling.
    """
    editable = any(cmd in sys.argv for cmd in ('develop', 'editable_wheel'))
    mim_dir = osp.join(HERE, 'mmkd_contrast', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for item in MIM_ITEMS:
        src = osp.join(HERE, item)
        dst = osp.join(mim_dir, item)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if not osp.exists(src):
            continue
        if editable:
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__',
                                                        '*.pyc'))
        else:
            shutil.copyfile(src, dst)


def get_version():
    with open(osp.join(HERE, 'mmkd_contrast', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(fname):
    """Read a requirements file, following ``-r`` includes."""
    reqs = []
    with open(osp.join(HERE, fname)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(
                    osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                reqs.append(line)
    return reqs


add_mim_extension()

setup(
    name='mmkd_contrast',
    version=get_version(),
    description='Contrastive knowledge distillation (MSDCRD, PCKD, LFCC, '
    'KD, CRD) for OpenMMLab',
    long_description=open(osp.join(HERE, 'README.md')).read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks')),
    include_package_data=True,
    python_requires='>=3.8',
    # torch/mmcv are left to the user (CUDA or CPU build, mmcv or mmcv-lite).
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require={
        'mim': parse_requirements('requirements/mmcv.txt') +
        parse_requirements('requirements/mminstall.txt'),
        'ecosystem': parse_requirements('requirements/ecosystem.txt'),
        'tests': parse_requirements('requirements/tests.txt'),
    },
    zip_safe=False)
