"""The contract of a distillation loss: what it declares, what it checks,
what the distillers read from it."""
import inspect
import math
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional

import torch.nn as nn

__all__ = [
    'BaseDistillLoss', 'HyperParam', 'LossInput', 'NON_NEGATIVE', 'POSITIVE',
    'POSITIVE_INT', 'UNIT_INTERVAL', 'hyper_param_problem'
]


@dataclass(frozen=True)
class HyperParam:
    """The valid values of one numeric hyper-parameter.

    A value is valid when it is a real number (not a bool), finite, and
    inside the range; ``integer=True`` also asks for an ``int``.

    Args:
        low (float, optional): Lower bound. Defaults to None (none).
        high (float, optional): Upper bound. Defaults to None (none).
        low_open (bool): Exclude ``low`` itself. Defaults to False.
        high_open (bool): Exclude ``high`` itself. Defaults to False.
        integer (bool): Only ``int`` values. Defaults to False.
        allow_none (bool): ``None`` is valid too (an optional setting).
            Defaults to False.
        meaning (str): What the value is, for messages and docs, e.g.
            ``'temperature'``. Defaults to ``''``.
    """

    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    allow_none: bool = False
    meaning: str = ''

    def describe(self) -> str:
        """The valid values in words, e.g. ``'a finite number > 0'``."""
        kind = 'an int' if self.integer else 'a finite number'
        if self.low is not None and self.high is not None:
            left = '(' if self.low_open else '['
            right = ')' if self.high_open else ']'
            return f'{kind} in {left}{self.low}, {self.high}{right}'
        if self.low is not None:
            return f'{kind} {">" if self.low_open else ">="} {self.low}'
        if self.high is not None:
            return f'{kind} {"<" if self.high_open else "<="} {self.high}'
        return kind

    def problem(self, value: Any) -> Optional[str]:
        """Why ``value`` is not valid, or None when it is."""
        if value is None and self.allow_none:
            return None
        wanted = self.describe()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f'must be {wanted}'
        if self.integer and not isinstance(value, numbers.Integral):
            return f'must be {wanted}'
        if not math.isfinite(value):
            return f'must be {wanted}'
        too_low = self.low is not None and (
            value < self.low or (self.low_open and value == self.low))
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high))
        if too_low or too_high:
            return f'must be {wanted}'
        return None


#: A temperature: finite and > 0.
POSITIVE = HyperParam(low=0, low_open=True, meaning='temperature')
#: A weight: finite and >= 0 (0 switches a term off, as in ablations).
NON_NEGATIVE = HyperParam(low=0, meaning='weight')
#: A momentum or fraction: in [0, 1].
UNIT_INTERVAL = HyperParam(low=0, high=1, meaning='fraction')
#: A count: an int >= 1.
POSITIVE_INT = HyperParam(low=1, integer=True, meaning='count')


def hyper_param_problem(owner: str, name: str, value: Any,
                        spec: HyperParam) -> Optional[str]:
    """The message for an invalid hyper-parameter, or None.

    Args:
        owner (str): Who has the argument, e.g. ``'KDLoss'`` or a config
            key such as ``'model.distill_losses.kd'``.
        name (str): The argument.
        value: Its value.
        spec (HyperParam): Its valid values.

    Returns:
        str | None: E.g. ``"KDLoss: tau must be a finite number > 0, got
        -1.0"``.
    """
    why = spec.problem(value)
    if why is None:
        return None
    return f'{owner}: {name} {why}, got {value!r}'


@dataclass(frozen=True)
class LossInput:
    """One argument of a loss's ``forward``.

    Args:
        shape (str): Its shape in words, e.g. ``'(B, C)'``.
        source (str): Where a distiller takes it from: ``'student'``,
            ``'teacher'`` (a tap, maybe through a connector), ``'data'``
            (a data field, e.g. ``gt_label``) or ``'distiller'`` (computed
            by a method distiller, e.g. PCKD's preview weights).
        doc (str): What it is. Defaults to ``''``.
    """

    shape: str
    source: str
    doc: str = ''


class BaseDistillLoss(nn.Module):
    """Base of every distillation loss of the package.

    **What a loss declares** (class attributes, read by the distillers, the
    train-data check and the contract test):

    - ``INPUTS``: every :meth:`forward` argument, with its shape and
      source (:class:`LossInput`). Arguments with a default are optional;
      :meth:`required_inputs` names those its settings make required.
    - ``HYPER_PARAMS``: every numeric constructor argument with its valid
      range (:class:`HyperParam`); ``loss_weight`` is always one.
    - ``min_samples_per_process``: in-batch contrastive losses need at
      least 2 samples in every batch of every process.
    - ``num_samples`` (instance attribute): the training-set size the loss
      is built for (a memory bank's rows), or None.
    - :meth:`is_applicable`: whether the loss is defined for a pair of
      feature widths (PCKD's centre alignment is not when they differ).
    - :meth:`set_epoch`: for a loss that changes with the epoch.

    **What it checks.** ``__init__`` validates every declared
    hyper-parameter it is given (finite, in range; the error names the
    class, the argument and the value), wherever the loss is built: in a
    distiller, in an mmseg model, in a test. :meth:`forward` checks the
    shapes it receives and raises ``ValueError`` naming them.

    **What the distiller guarantees.** Every required argument is wired to
    a source before training (the build fails otherwise); teacher taps are
    detached; with ``min_samples_per_process > 1`` every batch of every
    process holds that many samples; with ``num_samples`` set, it equals the
    training-set size (``TrainDataCheckHook``).

    **loss_weight.** :meth:`forward` returns a scalar already multiplied by
    ``loss_weight`` (as mmpretrain's losses do); the distiller adds it to the
    total unchanged and logs it as ``distill.loss_<name>``. 0 switches the
    term off while keeping it logged.

    A subclass calls ``super().__init__(**hyper_params)`` with its numeric
    settings; they are checked against ``HYPER_PARAMS`` and stored as
    attributes of the same names.

    Args:
        **hyper_params: Declared hyper-parameters by name.
    """

    INPUTS: ClassVar[Dict[str, LossInput]] = {}
    HYPER_PARAMS: ClassVar[Dict[str, HyperParam]] = dict(
        loss_weight=NON_NEGATIVE)
    min_samples_per_process: ClassVar[int] = 1
    num_samples: Optional[int] = None

    def __init__(self, **hyper_params: Any) -> None:
        super().__init__()
        self.check_hyper_params(**hyper_params)
        for name, value in hyper_params.items():
            setattr(self, name, value)

    @classmethod
    def check_hyper_params(cls, **hyper_params: Any) -> None:
        """Check declared hyper-parameters without storing them.

        Raises:
            TypeError: A name is not declared in ``HYPER_PARAMS``.
            ValueError: A value is out of its range; names the class, the
                argument and the value.
        """
        owner = cls.__name__
        for name, value in hyper_params.items():
            spec = cls.HYPER_PARAMS.get(name)
            if spec is None:
                raise TypeError(
                    f'{owner}: {name!r} is not a declared hyper-parameter; '
                    f'{owner}.HYPER_PARAMS has {sorted(cls.HYPER_PARAMS)}')
            message = hyper_param_problem(owner, name, value, spec)
            if message is not None:
                raise ValueError(message)

    def required_inputs(self) -> Dict[str, str]:
        """Optional :meth:`forward` arguments this configuration needs.

        Read by :class:`SingleTeacherDistiller` when it is built, so that a
        config missing one fails before training.

        Returns:
            dict: Argument name to the reason it is needed.
        """
        return {}

    def needed_inputs(self) -> List[str]:
        """The :meth:`forward` arguments a distiller must wire: those
        without a default, then :meth:`required_inputs`."""
        params = inspect.signature(self.forward).parameters.values()
        needed = [
            p.name for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        return needed + [n for n in self.required_inputs() if n not in needed]

    @property
    def needs_labels(self) -> bool:
        """bool: Whether the loss needs the batch's ``labels``."""
        return 'labels' in self.needed_inputs()

    @property
    def needs_sample_idx(self) -> bool:
        """bool: Whether the loss needs the dataset indices
        ``sample_idx``."""
        return 'sample_idx' in self.needed_inputs()

    def set_epoch(self, epoch: int, max_epochs: Optional[int] = None) -> None:
        """Tell the loss which training epoch runs (1-based).

        :class:`~mmkd_contrast.engine.hooks.DistillEpochHook` calls the
        distiller's ``set_epoch`` before every training epoch, which calls
        this on each loss. A loss whose value follows the epoch (a warm-up)
        overrides it and keeps what it needs as Python numbers, so that
        ``forward`` reads no tensor on the host. The default does nothing.

        Args:
            epoch (int): The current epoch, starting at 1.
            max_epochs (int, optional): The schedule's length.
        """

    @staticmethod
    def is_applicable(d_s: int, d_t: int) -> bool:
        """Whether the loss is defined for these feature widths.

        Args:
            d_s (int): Student feature width.
            d_t (int): Teacher feature width.

        Returns:
            bool: True unless a subclass says otherwise.
        """
        return True
