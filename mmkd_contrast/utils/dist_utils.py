"""Collective helpers for contrastive losses under ``torch.distributed``."""
import datetime

import torch
import torch.distributed as dist
from mmengine.dist import get_dist_info


class _GatherWithGrad(torch.autograd.Function):
    """All-gather whose backward returns this rank's slice of the summed
    gradient, so that averaging gradients over ranks (as DDP does) gives the
    gradient of the loss computed on the concatenated batch."""

    @staticmethod
    def forward(ctx, x):
        ctx.batch = x.shape[0]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad)
        rank = dist.get_rank()
        return grad[rank * ctx.batch:(rank + 1) * ctx.batch]


def all_gather_cat(x, with_grad=False):
    """Concatenate ``x`` from every rank along dim 0, in rank order.

    Every rank must pass the same shape. Without a process group this returns
    ``x`` itself.

    Args:
        x (Tensor): The local tensor, shape ``(B, ...)``.
        with_grad (bool): Let the gradient flow back to every rank's ``x``.
            When False the result is detached. Defaults to False.

    Returns:
        Tensor: ``(world_size * B, ...)``.
    """
    rank, world_size = get_dist_info()
    if world_size == 1:
        return x if with_grad else x.detach()
    if with_grad:
        return _GatherWithGrad.apply(x)
    parts = [torch.empty_like(x) for _ in range(world_size)]
    dist.all_gather(parts, x.detach().contiguous())
    return torch.cat(parts, dim=0)


def setup_cpu_distributed(cfg):
    """Prepare a multi-process run on machines without a GPU.

    Joins the ``gloo`` process group from the ``torchrun`` environment
    (mmengine's own launcher calls ``torch.cuda.set_device``) and makes the
    Runner wrap the model with ``device_ids=None`` (DDP rejects device ids
    for a CPU module). ``env_cfg.dist_cfg.timeout`` (seconds, as for
    mmengine's own launcher) is the group's collective timeout.

    Args:
        cfg (Config): The config to update in place.
    """
    if not dist.is_initialized():
        # mmengine's env_cfg.dist_cfg.timeout (seconds) bounds every
        # collective: how long the others wait for a frozen process.
        timeout = ((cfg.get('env_cfg', None) or {}).get('dist_cfg', None)
                   or {}).get('timeout')
        dist.init_process_group(
            'gloo', **({} if timeout is None else dict(
                timeout=datetime.timedelta(seconds=timeout))))
    wrapper = dict(cfg.get('model_wrapper_cfg', None) or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    # Assigned back as whole dicts: a config without env_cfg (a plain
    # mmengine config that only imports the plugin) has none to update.
    env_cfg = dict(cfg.get('env_cfg', None) or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg', None) or {},
                               backend='gloo')
    cfg.env_cfg = env_cfg
    return cfg
