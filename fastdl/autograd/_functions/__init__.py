"""fastdl's built-in ops as autograd Functions: all backward rules in one place.

tensor.py: elementwise, reductions, matmul, shape ops, indexing, joins.
nn.py: linear, activations, losses, pooling, normalization, dropout,
embedding, convolution. rnn.py: recurrent cells and whole sequences.
"""
