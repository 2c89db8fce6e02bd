"""Bring host data (Python numbers) to the device without a sync."""
import torch


def host_to_device(values, device, dtype=None):
    """A tensor of ``values`` on ``device``, copied without making the host
    wait.

    ``torch.tensor(values, device='cuda')`` copies from pageable memory and
    then waits for the device's stream: in the middle of a training step
    the host stops launching work until the GPU has caught up. Here the
    values go to pinned memory first and are copied asynchronously (the
    pinned buffer is kept alive by PyTorch's caching host allocator until
    the copy has run). On a CPU this is ``torch.as_tensor``.

    Args:
        values (Sequence | Tensor): Host data.
        device (torch.device | str): Target device.
        dtype (torch.dtype, optional): Element type.

    Returns:
        Tensor: ``values`` on ``device``.
    """
    device = torch.device(device)
    tensor = torch.as_tensor(values, dtype=dtype)
    if device.type != 'cuda':
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)
