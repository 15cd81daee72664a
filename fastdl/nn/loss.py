"""Loss modules over fastdl.nn.functional, with PyTorch's arguments and defaults."""
from fastdl.nn import functional as F
from fastdl.nn.module import Module

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss", "HingeLoss", "HingeEmbeddingLoss", "MultiMarginLoss",
           "KLDivLoss", "TripletMarginLoss", "CosineEmbeddingLoss"]

_REDUCTIONS = ("none", "mean", "sum", "batchmean")


class _Loss(Module):
    """Base of the loss modules: stores and checks ``reduction``."""
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError("%s: reduction must be one of 'none', 'mean', 'sum', got %r"
                             % (type(self).__name__, reduction))
        self.reduction = reduction

    def extra_repr(self):
        return "reduction=%r" % self.reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight`` buffer."""
    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error (x - y)^2 between input and target (torch.nn.MSELoss).

    Args:
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.MSELoss()(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(4.3333)
        >>> nn.MSELoss(reduction='none')(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor([0., 4., 9.])
    """
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - y| between input and target (torch.nn.L1Loss).

    Args:
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.L1Loss()(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(1.6667)
    """
    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: quadratic for |x - y| <= delta, linear beyond (torch.nn.HuberLoss).

    Per element: 0.5 * d^2 if |d| <= delta else delta * (|d| - 0.5 * delta).

    Args:
        delta: where the loss turns linear (default 1.0).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.HuberLoss()(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(1.3333)
    """
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: HuberLoss divided by beta (torch.nn.SmoothL1Loss).

    Per element: 0.5 * d^2 / beta if |d| < beta else |d| - 0.5 * beta.

    Args:
        beta: where the loss turns linear (default 1.0).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*), target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.SmoothL1Loss(beta=0.5)(fastdl.tensor([1.0, 2.0, 3.0]), fastdl.tensor([1.0, 0.0, 0.0]))
        tensor(1.5)
    """
    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities (torch.nn.BCELoss).

    Per element: -(y log p + (1 - y) log(1 - p)), logs clamped at -100 as in PyTorch. Prefer BCEWithLogitsLoss on raw scores.

    Args:
        weight: optional rescaling weight, broadcast against the input.
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*) probabilities in [0, 1], target (*) in [0, 1] -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.BCELoss()(fastdl.tensor([0.8, 0.4]), fastdl.tensor([1.0, 0.0]))
        tensor(0.367)
    """
    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy on logits, sigmoid fused in for stability (torch.nn.BCEWithLogitsLoss).

    Args:
        weight: optional rescaling weight, broadcast against the input.
        pos_weight: weight of the positive term, per class (broadcast over the last dim).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*) logits, target (*) in [0, 1] -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.BCEWithLogitsLoss()(fastdl.tensor([2.0, -1.0]), fastdl.tensor([1.0, 0.0]))
        tensor(0.2201)
    """
    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices or class probabilities (torch.nn.CrossEntropyLoss).

    log_softmax and the negative log-likelihood run as one fused kernel.

    Args:
        weight: optional (C,) weight per class.
        ignore_index: a target value that contributes nothing (default -100).
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution (default 0.0).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (N, C) or (N, C, d1, ...) raw logits; target (N) or (N, d1, ...) integer classes, or probabilities shaped like input -> scalar, or (N, ...) with reduction='none'.

    Example:
        >>> logits = fastdl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
        >>> nn.CrossEntropyLoss()(logits, fastdl.tensor([0, 2]))
        tensor(0.1755)
    """
    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities and class indices (torch.nn.NLLLoss).

    Args:
        weight: optional (C,) weight per class.
        ignore_index: a target value that contributes nothing (default -100).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (N, C) log-probabilities; target (N) integer classes -> scalar, or (N) with reduction='none'.

    Example:
        >>> logp = F.log_softmax(fastdl.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]), dim=1)
        >>> nn.NLLLoss()(logp, fastdl.tensor([0, 2]))
        tensor(0.1755)
    """
    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class HingeLoss(_Loss):
    """SVM hinge max(0, 1 - y * f(x)) for targets y in {-1, +1} (fastdl's own; not in PyTorch).

    Args:
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*) scores, target (*) in {-1, +1} -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.HingeLoss()(fastdl.tensor([0.5, -2.0]), fastdl.tensor([1.0, -1.0]))
        tensor(0.25)
    """

    def forward(self, input, target):
        return F.hinge_loss(input, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1 (torch.nn.HingeEmbeddingLoss).

    Args:
        margin: the margin for y = -1 (default 1.0).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (*) (often distances), target (*) in {-1, +1} -> scalar, or (*) with reduction='none'.

    Example:
        >>> nn.HingeEmbeddingLoss()(fastdl.tensor([0.3, 0.2]), fastdl.tensor([1.0, -1.0]))
        tensor(0.55)
    """
    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge: sum over i != y of max(0, margin - x[y] + x[i])^p / C (torch.nn.MultiMarginLoss).

    Args:
        p: 1 or 2 (default 1).
        margin: default 1.0.
        weight: optional (C,) weight per class.
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input (N, C) scores, target (N) integer classes -> scalar, or (N) with reduction='none'.

    Example:
        >>> nn.MultiMarginLoss()(fastdl.tensor([[0.1, 0.2, 0.4, 0.8]]), fastdl.tensor([3]))
        tensor(0.325)
    """
    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__(weight, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence target * (log target - input), input given as log-probabilities (torch.nn.KLDivLoss).

    Args:
        log_target: the target is given as log-probabilities too (default False).
        reduction: 'mean' (default; the mean over all elements), 'batchmean' (the sum
            divided by the batch size: the true KL divergence), 'sum' or 'none'.

    Shapes:
        input (*) log-probabilities, target (*) same shape -> scalar, or (*) with reduction='none'.

    Example:
        >>> logp = F.log_softmax(fastdl.tensor([[1.0, 2.0, 3.0]]), dim=1)
        >>> nn.KLDivLoss(reduction='batchmean')(logp, fastdl.tensor([[0.2, 0.3, 0.5]]))
        tensor(0.078)
    """
    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance (torch.nn.TripletMarginLoss).

    Args:
        margin: default 1.0.
        p: the norm degree of the distance (default 2.0).
        eps: added inside the norm for stability (default 1e-6).
        swap: use min(d(a, n), d(p, n)) as the negative distance (default False).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        anchor, positive, negative (N, D) -> scalar, or (N) with reduction='none'.

    Example:
        >>> a, p, n = fastdl.tensor([[0.0, 0.0]]), fastdl.tensor([[0.0, 1.0]]), fastdl.tensor([[3.0, 4.0]])
        >>> nn.TripletMarginLoss()(a, p, n)
        tensor(0.)
    """
    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__(reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (torch.nn.CosineEmbeddingLoss).

    Args:
        margin: in [-1, 1] (default 0.0).
        reduction: 'mean' (default), 'sum' or 'none' (one loss per element).

    Shapes:
        input1, input2 (N, D), target (N) in {-1, +1} -> scalar, or (N) with reduction='none'.

    Example:
        >>> nn.CosineEmbeddingLoss()(fastdl.tensor([[1.0, 0.0]]), fastdl.tensor([[0.0, 1.0]]), fastdl.tensor([1.0]))
        tensor(1.)
    """
    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)
