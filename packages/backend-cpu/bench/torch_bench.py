"""The PyTorch side of `pnpm bench backend-cpu`: sgemm GFLOP/s on the shapes of shapes.json and
one training step of nanoGPT's small CPU config (the same model as gpt.mjs). Prints one JSON
object. Debian's python3-torch with OpenBLAS, torch.set_num_threads(1) (OpenBLAS threads itself).

Usage: /usr/bin/python3 torch_bench.py [--quick] [--only gemm|gpt|half] [--threads n]

--only half: float32 F.linear (x @ W^T) and the input gradient dY @ W on shapes.json's
`halfWeights`, seconds per product, the peer of half.mjs's float32 column; run with
OPENBLAS_NUM_THREADS=n and --threads n so OpenBLAS uses n threads.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

quick = "--quick" in sys.argv
only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
torch.set_num_threads(threads)
here = os.path.dirname(os.path.abspath(__file__))
shapes = json.load(open(os.path.join(here, "shapes.json")))


def best_seconds(fn, repeats, budget=1.0):
    fn()
    best = math.inf
    start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    return best


def gemm_case(m, n, k, transpose_a=False, transpose_b=False, batch=1):
    a = torch.rand(batch, k, m) if transpose_a else torch.rand(batch, m, k)
    b = torch.rand(batch, n, k) if transpose_b else torch.rand(batch, k, n)
    a = a.transpose(1, 2) if transpose_a else a
    b = b.transpose(1, 2) if transpose_b else b
    out = torch.empty(batch, m, n)
    if batch == 1:
        a2, b2, o2 = a[0], b[0], out[0]
        run = lambda: torch.mm(a2, b2, out=o2)
    else:
        run = lambda: torch.bmm(a, b, out=out)
    seconds = best_seconds(run, 5 if quick else 30, 0.5 if quick else 2.0)
    return 2.0 * m * n * k * batch / seconds / 1e9


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with an optional bias (torch 1.13's nn.LayerNorm has no bias=False)."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class Block(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = LayerNorm(c)
        self.c_attn = nn.Linear(c, 3 * c, bias=False)
        self.attn_proj = nn.Linear(c, c, bias=False)
        self.ln_2 = LayerNorm(c)
        self.c_fc = nn.Linear(c, 4 * c, bias=False)
        self.mlp_proj = nn.Linear(4 * c, c, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(64, 64)).view(1, 1, 64, 64))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        # torch 1.13 has no F.scaled_dot_product_attention: nanoGPT's manual path
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v  # (B, nh, T, hs)
        x = x + self.attn_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=65, block=64, layers=4, heads=4, c=128):
        super().__init__()
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(block, c)
        self.h = nn.ModuleList(Block(c, heads) for _ in range(layers))
        self.ln_f = LayerNorm(c)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # lm_head tied to wte, as nanoGPT
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def gpt_step():
    torch.manual_seed(0)
    model = GPT()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": rest, "weight_decay": 0.0}],
                                  lr=1e-3, betas=(0.9, 0.99))
    idx = torch.randint(0, 65, (12, 64))
    targets = torch.randint(0, 65, (12, 64))
    losses = []

    def step():
        loss = model(idx, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    for _ in range(10):  # warm-up, as the llmkit side
        step()
    times = []
    for _ in range(10 if quick else 100):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"medianMs": times[len(times) // 2] * 1e3, "bestMs": times[0] * 1e3,
            "firstLoss": losses[0], "parameters": sum(p.numel() for p in model.parameters())}


def half_weights():
    """Seconds of float32 products on the Linear shapes of halfWeights, keyed as half.mjs does."""
    spec = shapes["halfWeights"]
    repeats, budget = (3, 1.0) if quick else (15, 4.0)
    out = {}
    for c in spec["matvec"]:
        w = torch.empty(c["n"], c["k"]).uniform_(-0.05, 0.05)
        x = torch.randn(1, c["k"])
        o = torch.empty(1, c["n"])
        out[f"matvec {c['name']} M=1"] = best_seconds(lambda: torch.mm(x, w.t(), out=o), repeats, budget)
        del w
    for kind in ("gemm", "gradient"):
        for c in spec[kind]:
            w = torch.empty(c["n"], c["k"]).uniform_(-0.05, 0.05)
            for m in spec["rows"]:
                if kind == "gemm":  # x [M, K] @ W^T
                    x, o, b = torch.randn(m, c["k"]), torch.empty(m, c["n"]), w.t()
                else:  # dY [M, N] @ W
                    x, o, b = torch.randn(m, c["n"]), torch.empty(m, c["k"]), w
                out[f"{kind} {c['name']} M={m}"] = best_seconds(
                    lambda: torch.mm(x, b, out=o), repeats, budget)
    return out


result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
if only == "half":
    result["half"] = half_weights()
if only in (None, "gemm"):
    result["square"] = {str(s): gemm_case(s, s, s) for s in shapes["square"]}
    result["training"] = {c["name"]: gemm_case(c["m"], c["n"], c["k"], c["transposeA"],
                                               c["transposeB"], c.get("batch", 1))
                          for c in shapes["training"]}
if only in (None, "gpt"):
    result["gpt"] = gpt_step()
print(json.dumps(result))
