"""Turn a sequence of tokens into a spatial feature map."""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

from mmkd_contrast.registry import MODELS


def _is_int_pair(value):
    return (isinstance(value, (tuple, list, torch.Size)) and len(value) == 2
            and all(isinstance(v, int) for v in value))


@MODELS.register_module()
class TokenToMap(nn.Module):
    """Reshape transformer / MLP-Mixer tokens ``(B, N, C)`` into a map
    ``(B, C, h, w)`` so that map-based connectors apply to them.

    Used by LFCC, `Low-Frequency Components for Heterogeneous Knowledge
    Distillation <https://arxiv.org/abs/2405.18524>`_, and by MSDCRD for
    token features.

    Token ``num_extra_tokens + r * w + c`` becomes pixel ``(r, c)``: the
    row-major order in which patch embeddings flatten an image.

    Accepted inputs, covering what mmpretrain backbones and their sub-modules
    return:

    - ``(B, N, C)`` tokens (a ViT / DeiT backbone with ``out_type='raw'``, a
      transformer or mixer block); ``(B, C, N)`` with
      ``channels_first=True`` (what the ``MlpMixer`` backbone returns).
    - ``(B, C, H, W)`` maps (ViT / DeiT with ``out_type='featmap'``, Swin
      stages, CNNs): returned unchanged.
    - A tuple or list: its last element is used (backbones return one entry
      per output stage). A ``(tokens, (h, w))`` pair, as patch embeddings,
      patch merging and Swin stages return, uses that ``(h, w)``.

    Pooled ``(B, C)`` vectors (``out_type='cls_token'`` or
    ``'avg_featmap'``) carry no spatial layout and raise a ``ValueError``.

    Args:
        num_extra_tokens (int): Leading tokens to drop before reshaping
            (1 for a class token, 2 for DeiT's class and distillation
            tokens). Defaults to 0.
        hw (tuple[int, int], optional): The map size ``(h, w)``. When None
            the remaining tokens must form a square. Defaults to None.
        channels_first (bool): Read a 3-D input as ``(B, C, N)`` instead of
            ``(B, N, C)``. Defaults to False.

    Example:
        >>> tokens = torch.randn(2, 1 + 4 * 4, 32)  # class token + 4x4 grid
        >>> TokenToMap(num_extra_tokens=1)(tokens).shape
        torch.Size([2, 32, 4, 4])
    """

    def __init__(self,
                 num_extra_tokens: int = 0,
                 hw: Optional[Sequence[int]] = None,
                 channels_first: bool = False) -> None:
        super().__init__()
        if not isinstance(num_extra_tokens, int) or num_extra_tokens < 0:
            raise ValueError('TokenToMap: num_extra_tokens must be a '
                             f'non-negative int, got {num_extra_tokens!r}')
        if hw is not None:
            if not _is_int_pair(hw) or min(hw) < 1:
                raise ValueError('TokenToMap: hw must be two positive ints '
                                 f'(h, w), got {hw!r}')
            hw = tuple(hw)
        self.num_extra_tokens = num_extra_tokens
        self.hw = hw
        self.channels_first = channels_first

    def forward(self,
                x: Union[torch.Tensor, tuple, list]) -> torch.Tensor:
        """Reshape tokens into a map.

        Args:
            x (Tensor | tuple | list): Tokens ``(B, N, C)``, a map
                ``(B, C, H, W)``, or a tuple/list ending with one of them
                (see the class docstring).

        Returns:
            Tensor: ``(B, C, h, w)``.
        """
        hw = self.hw
        if isinstance(x, (tuple, list)):
            if len(x) == 2 and torch.is_tensor(x[0]) and _is_int_pair(x[1]):
                x, pair_hw = x[0], tuple(x[1])
                if hw is not None and hw != pair_hw:
                    raise ValueError(
                        f'TokenToMap: the input carries its map size '
                        f'{pair_hw}, which differs from hw={hw}')
                hw = pair_hw
            else:
                if len(x) == 0:
                    raise ValueError('TokenToMap got an empty tuple/list')
                return self.forward(x[-1])
        if not torch.is_tensor(x):
            raise TypeError('TokenToMap expects a Tensor or a tuple/list '
                            f'ending with one, got {type(x).__name__}')
        if x.dim() == 4:
            return x
        if x.dim() == 2:
            raise ValueError(
                f'TokenToMap got a pooled (B, C) tensor of shape '
                f'{tuple(x.shape)}: a spatial map cannot be made from pooled '
                'features (a class token or an averaged feature). Tap the '
                "patch tokens instead, e.g. out_type='raw' or 'featmap' for "
                'a ViT backbone.')
        if x.dim() != 3:
            raise ValueError('TokenToMap expects tokens (B, N, C) or a map '
                             f'(B, C, H, W), got shape {tuple(x.shape)}')
        if self.channels_first:
            x = x.transpose(1, 2)
        batch, num_tokens, channels = x.shape
        num_patches = num_tokens - self.num_extra_tokens
        if num_patches < 1:
            raise ValueError(
                f'TokenToMap: {num_tokens} tokens leave no patch token after '
                f'dropping num_extra_tokens={self.num_extra_tokens}')
        if hw is None:
            side = math.isqrt(num_patches)
            if side * side != num_patches:
                raise ValueError(
                    f'TokenToMap: N={num_patches} patch tokens (from '
                    f'{num_tokens} tokens after dropping '
                    f'num_extra_tokens={self.num_extra_tokens}) is not a '
                    'square; pass hw=(h, w) or check num_extra_tokens')
            hw = (side, side)
        elif hw[0] * hw[1] != num_patches:
            raise ValueError(
                f'TokenToMap: hw={hw} needs {hw[0] * hw[1]} patch tokens, got '
                f'N={num_patches} (from {num_tokens} tokens after dropping '
                f'num_extra_tokens={self.num_extra_tokens})')
        patches = x[:, self.num_extra_tokens:]
        return patches.reshape(batch, hw[0], hw[1], channels).permute(
            0, 3, 1, 2)

    def extra_repr(self):
        return (f'num_extra_tokens={self.num_extra_tokens}, hw={self.hw}, '
                f'channels_first={self.channels_first}')
