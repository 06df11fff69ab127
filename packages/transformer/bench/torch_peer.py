# PyTorch eager peer for `pnpm bench transformer`: greedy generation with a KV cache on a GPT-2
# 124M-shaped model with random weights (a nanoGPT-style module, since `transformers` is not
# installed here), plus the top-k 50 / top-p 0.9 warp-and-draw cost per token. Prints one JSON line.
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
prompt_length = int(sys.argv[2]) if len(sys.argv) > 2 else 32
new_tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 128
torch.set_num_threads(threads)
torch.manual_seed(0)
V, T, L, H, C = 50257, 1024, 12, 12, 768


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(C)
        self.c_attn = torch.nn.Linear(C, 3 * C)
        self.c_proj = torch.nn.Linear(C, C)
        self.ln_2 = torch.nn.LayerNorm(C)
        self.c_fc = torch.nn.Linear(C, 4 * C)
        self.mlp_proj = torch.nn.Linear(4 * C, C)

    def forward(self, x, cache):
        B, t, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (z.view(B, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        S = k.shape[2]
        mask = torch.ones(t, S, dtype=torch.bool).tril(diagonal=S - t)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))  # torch 1.13: no fused SDPA
        y = att.masked_fill(~mask, -math.inf).softmax(dim=-1) @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, t, C))
        x = x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))
        return x, (k, v)


class GPT(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(V, C)
        self.wpe = torch.nn.Embedding(T, C)
        self.h = torch.nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = torch.nn.LayerNorm(C)
        for p in self.parameters():
            torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids, caches, start):
        x = self.wte(ids) + self.wpe(torch.arange(start, start + ids.shape[1]))
        new = []
        for block, cache in zip(self.h, caches):
            x, c = block(x, cache)
            new.append(c)
        x = self.ln_f(x[:, -1:, :])
        return x @ self.wte.weight.T, new


model = GPT().eval()
prompt = torch.randint(0, V, (1, prompt_length))
with torch.no_grad():
    model(prompt, [None] * L, 0)  # warm-up
    start = time.perf_counter()
    logits, caches = model(prompt, [None] * L, 0)
    prefill = time.perf_counter() - start
    token = logits[0, -1].argmax().view(1, 1)
    start = time.perf_counter()
    for i in range(new_tokens - 1):
        logits, caches = model(token, caches, prompt_length + i)
        token = logits[0, -1].argmax().view(1, 1)
    decode = time.perf_counter() - start


def warp_and_draw(logits, generator):
    # Hugging Face's TopKLogitsWarper then TopPLogitsWarper, then multinomial
    top = torch.topk(logits, 50)
    scores = torch.full_like(logits, -math.inf).scatter(0, top.indices, top.values)
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - 0.9)
    remove[-1:] = 0
    scores = scores.masked_fill(remove.scatter(0, sorted_indices, remove), -math.inf)
    return torch.multinomial(scores.softmax(dim=-1), 1, generator=generator)


sampling = {}
for vocab in (50257, 200019):
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(64, vocab) * 3
    for r in rows[:8]:
        warp_and_draw(r, generator)
    start = time.perf_counter()
    reps = 200
    for i in range(reps):
        warp_and_draw(rows[i % 64], generator)
    sampling[str(vocab)] = (time.perf_counter() - start) / reps * 1000

print(json.dumps({
    'torch': torch.__version__,
    'threads': threads,
    'prefill_ms': prefill * 1000,
    'decode_tokens_per_s': (new_tokens - 1) / decode,
    'sampling_ms': sampling,
}))
