"""A frozen process stops the others after env_cfg.dist_cfg.timeout, not
after gloo's default 30 minutes."""
import datetime
import os
import signal
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from dist_helpers import _free_port
from mmengine.config import Config

from mmkd_contrast.utils import setup_cpu_distributed


def test_the_config_timeout_reaches_the_group(monkeypatch):
    calls = []
    monkeypatch.setattr(dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(dist, 'init_process_group',
                        lambda *a, **k: calls.append((a, k)))
    setup_cpu_distributed(Config(dict(
        env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=90)))))
    setup_cpu_distributed(Config(dict(model=dict(type='X'))))
    assert calls == [(('gloo', ), dict(timeout=datetime.timedelta(
        seconds=90))), (('gloo', ), {})]


def _rank(rank, port, queue):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      RANK=str(rank), WORLD_SIZE='2')
    setup_cpu_distributed(Config(dict(
        env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=3)))))
    x = torch.ones(8)
    dist.all_reduce(x)
    if rank == 1:
        os.kill(os.getpid(), signal.SIGSTOP)  # frozen, not dead
    start = time.monotonic()
    try:
        dist.all_reduce(x)
        queue.put(('no error', 0.0))
    except RuntimeError as err:
        queue.put((str(err), time.monotonic() - start))


@pytest.mark.slow
def test_a_frozen_process_stops_the_other_after_the_timeout():
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_rank, args=(r, port, queue))
             for r in range(2)]
    for p in procs:
        p.start()
    try:
        message, waited = queue.get(timeout=300)
    finally:
        for p in procs:
            p.kill()
            p.join()
    assert 'Timed out' in message
    assert 2.5 < waited < 30, waited
