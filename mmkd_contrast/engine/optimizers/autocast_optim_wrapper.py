"""Mixed precision without loss scaling: bf16 autocast, on a CPU too."""
from contextlib import contextmanager
from typing import Any, Optional, Union

import torch
from mmengine.optim import OptimWrapper

from mmkd_contrast.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` that runs the forward pass under
    ``torch.autocast`` in bfloat16, without loss scaling.

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU (it asserts
    one at construction) and pairs autocast with a loss scaler that only
    fp16 needs. bfloat16 has fp32's exponent range, so gradients do not
    underflow and no scaler is needed: this wrapper is what
    ``tools/train.py --amp`` uses on a CPU (on a GPU it uses
    ``AmpOptimWrapper``: fp16 with dynamic loss scaling).

    The losses of this project compute their contrastive logits, softmaxes
    and bank scores in fp32 whatever the autocast dtype.

    Args:
        dtype (str | torch.dtype): Autocast dtype; only ``'bfloat16'``
            (fp16 needs a loss scaler: use ``AmpOptimWrapper``). Defaults
            to ``'bfloat16'``.
        device_type (str, optional): Device type given to
            ``torch.autocast``. Defaults to ``'cuda'`` when a GPU is
            available, else ``'cpu'``.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: Optional[str] = None,
                 **kwargs: Any) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype is not torch.bfloat16:
            raise ValueError(
                'AutocastOptimWrapper runs bfloat16 autocast only, got dtype '
                f'{dtype!r}; fp16 needs loss scaling (mmengine '
                "AmpOptimWrapper, which tools/train.py --amp uses on a GPU)")
        if device_type is None:
            device_type = 'cuda' if torch.cuda.is_available() else 'cpu'
        super().__init__(**kwargs)
        self.cast_dtype = dtype
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model):
        """The parent's context (gradient accumulation) under autocast."""
        with super().optim_context(model), torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype):
            yield
