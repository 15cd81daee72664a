import fastdl as torch
import fastdl.nn as nn
from fastdl.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
seqs = [torch.randint(1, 5, (n,)) for n in (5, 3, 4, 2)]
lengths = torch.tensor([len(s) for s in seqs])
padded = pad_sequence(seqs, batch_first=True, padding_value=0)
print(padded.shape)
emb = nn.Embedding(5, 4, padding_idx=0)
rnn = nn.LSTM(4, 6, batch_first=True)
packed = pack_padded_sequence(emb(padded), lengths, batch_first=True, enforce_sorted=False)
out, (h, c) = rnn(packed)
out, out_lens = pad_packed_sequence(out, batch_first=True)
# the final hidden state of each sequence equals the output at its last real step
last = out[torch.arange(4), lengths - 1]
err = (last - h[0]).abs().max().item()
print("max diff", err, out_lens.tolist())
RESULT = {"err": err}
