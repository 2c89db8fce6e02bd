"""Run a function in several CPU processes joined by a ``gloo`` group."""
import os
import pickle
import socket
import tempfile

import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank, world_size, port, fn, args, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group(
        'gloo', rank=rank, world_size=world_size)
    try:
        result = fn(rank, world_size, *args)
        with open(os.path.join(out_dir, f'{rank}.pkl'), 'wb') as f:
            pickle.dump(result, f)
    finally:
        dist.destroy_process_group()


def run_distributed(fn, world_size=2, args=()):
    """Call ``fn(rank, world_size, *args)`` on each rank; return the list of
    results in rank order. ``fn`` must be a module-level function and its
    result picklable (use tensors or plain Python values)."""
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(_worker, args=(world_size, _free_port(), fn, args, out_dir),
                 nprocs=world_size, join=True)
        results = []
        for rank in range(world_size):
            with open(os.path.join(out_dir, f'{rank}.pkl'), 'rb') as f:
                results.append(pickle.load(f))
    return results
