"""fastdl.nn.utils.rnn: padding variable-length sequences (torch.nn.utils.rnn).

``pad_sequence`` pads a list of tensors into one batch. Packed sequences
(``pack_padded_sequence``, ``pack_sequence``, ``pad_packed_sequence``) are not
supported: fastdl's RNN layers take padded batches only, and these functions
raise NotImplementedError saying so. Pad with ``pad_sequence`` and pick each
sequence's last real step from the output (``out[arange(B), lengths - 1]``) or
mask the padded steps in the loss (``ignore_index``).

Example:
    >>> seqs = [fastdl.tensor([1, 2, 3]), fastdl.tensor([4])]
    >>> nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    tensor([[1, 2, 3],
            [4, 0, 0]])
"""
from fastdl.tensor import Tensor, cat, stack

__all__ = ["pad_sequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Pad a list of tensors of shape (L_i, *) into one tensor (torch.nn.utils.rnn.pad_sequence).

    The result is (max L, B, *), or (B, max L, *) with ``batch_first=True``; the
    padding (``padding_value``) goes after each sequence, or before it with
    ``padding_side="left"``. Gradients flow back to every sequence.

    Args:
        sequences: a non-empty list (or tuple) of Tensors whose dims after the first agree.
        batch_first: put the batch dim first (default False, as in PyTorch).
        padding_value: the value of the padded entries (default 0).
        padding_side: "right" (default) or "left".

    Example:
        >>> a, b = fastdl.ones(3, 2), fastdl.ones(1, 2)
        >>> nn.utils.rnn.pad_sequence([a, b]).shape
        (3, 2, 2)
        >>> nn.utils.rnn.pad_sequence([fastdl.tensor([1.0, 2.0]), fastdl.tensor([3.0])],
        ...                           batch_first=True, padding_value=-1, padding_side="left")
        tensor([[ 1.,  2.],
                [-1.,  3.]])
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of tensors")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError("pad_sequence: sequence %d is a %s, expected a Tensor"
                            % (i, type(s).__name__))
        if s.ndim == 0:
            raise ValueError("pad_sequence: sequence %d is 0-d; each needs a length dim" % i)
        if tuple(s.shape[1:]) != tuple(sequences[0].shape[1:]) or s.dtype != sequences[0].dtype:
            raise ValueError("pad_sequence: sequence %d has shape %s and dtype %s, expected "
                             "(L, %s) and %s like sequence 0"
                             % (i, tuple(s.shape), s.dtype,
                                ", ".join(map(str, sequences[0].shape[1:])), sequences[0].dtype))
    if padding_side not in ("right", "left"):
        raise ValueError("pad_sequence: padding_side must be 'right' or 'left', got %r"
                         % (padding_side,))
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        n = longest - s.shape[0]
        if n:
            fill = s.new_full((n,) + tuple(s.shape[1:]), padding_value)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def _refuse(name):
    raise NotImplementedError(
        "%s: packed sequences are not supported; fastdl's RNN, LSTM and GRU take padded "
        "batches. Pad with nn.utils.rnn.pad_sequence and take each sequence's last real "
        "step as out[arange(B), lengths - 1] (or mask the padding in the loss)" % name)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Refused: packed sequences are not supported (torch.nn.utils.rnn.pack_padded_sequence).

    Raises NotImplementedError explaining the padded alternative: fastdl's RNN
    layers run on padded batches; take ``out[arange(B), lengths - 1]``.

    Example:
        >>> nn.utils.rnn.pack_padded_sequence(fastdl.zeros(2, 3, 4), [3, 2], batch_first=True)
        Traceback (most recent call last):
        NotImplementedError: pack_padded_sequence: packed sequences are not supported; ...
    """
    _refuse("pack_padded_sequence")


def pack_sequence(sequences, enforce_sorted=True):
    """Refused: packed sequences are not supported (torch.nn.utils.rnn.pack_sequence).

    Example:
        >>> nn.utils.rnn.pack_sequence([fastdl.zeros(3, 4)])
        Traceback (most recent call last):
        NotImplementedError: pack_sequence: packed sequences are not supported; ...
    """
    _refuse("pack_sequence")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Refused: packed sequences are not supported (torch.nn.utils.rnn.pad_packed_sequence).

    Example:
        >>> nn.utils.rnn.pad_packed_sequence(None)
        Traceback (most recent call last):
        NotImplementedError: pad_packed_sequence: packed sequences are not supported; ...
    """
    _refuse("pad_packed_sequence")
