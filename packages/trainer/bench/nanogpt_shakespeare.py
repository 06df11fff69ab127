"""PyTorch side of `pnpm bench trainer`: nanoGPT's small Shakespeare character config on CPU.

The same model, data split, optimizer, schedule and evaluation as llmkit's `shakespeare-char`
preset: 4 layers, 4 heads, 128 embedding, block 64, batch 12, no bias, no dropout, AdamW
lr 1e-3 betas (0.9, 0.99) weight decay 0.1 on matrices only, 100 warmup steps then cosine to
1e-4 at max_iters, gradient clipping 1.0, evaluation every 250 steps over 20 batches.
Written for this benchmark after nanoGPT's model.py and train.py (torch 1.13: manual attention).

usage: python3 nanogpt_shakespeare.py DATA_FILE MAX_ITERS [SEED]  -> prints one JSON line

val_loss is nanoGPT's estimate (20 random batches); val_loss_full predicts every token of the
validation split once, in consecutive windows of the block size (as `llmkit eval` does).
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

torch.set_num_threads(1)  # OpenBLAS threads itself; measured fastest on this machine
path, max_iters = sys.argv[1], int(sys.argv[2])
torch.manual_seed(int(sys.argv[3]) if len(sys.argv) > 3 else 1337)
text = open(path, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
splits = {"train": data[:n], "val": data[n:]}

n_layer, n_head, n_embd, block_size, batch_size = 4, 4, 128, 64, 12
vocab_size = len(chars)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, elementwise_affine=True)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.attn_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.ln_2 = nn.LayerNorm(n_embd, elementwise_affine=True)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.mlp_proj = nn.Linear(4 * n_embd, n_embd, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(n_embd, dim=2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attn_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([Block() for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                torch.nn.init.normal_(p, 0.0, std)
        # nanoGPT's no-bias LayerNorm: weight only
        for m in self.modules():
            if isinstance(m, nn.LayerNorm):
                m.bias.requires_grad_(False)
                m.bias.zero_()

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def get_batch(split):
    d = splits[split]
    ix = torch.randint(len(d) - block_size, (batch_size,))
    x = torch.stack([d[i : i + block_size] for i in ix])
    y = torch.stack([d[i + 1 : i + 1 + block_size] for i in ix])
    return x, y


model = GPT()
params = [p for p in model.parameters() if p.requires_grad]
decay = [p for p in params if p.dim() >= 2]
no_decay = [p for p in params if p.dim() < 2]
optimizer = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99)
)


def lr_at(it, lr=1e-3, warmup=100, decay_iters=max_iters, min_lr=1e-4):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / (decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


@torch.no_grad()
def estimate(split, iters=20):
    model.eval()
    losses = [model(*get_batch(split)).item() for _ in range(iters)]
    model.train()
    return sum(losses) / len(losses)


times, train_loss, val_loss = [], float("nan"), float("nan")
for it in range(max_iters):
    for g in optimizer.param_groups:
        g["lr"] = lr_at(it)
    t0 = time.perf_counter()
    x, y = get_batch("train")
    loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    train_loss = loss.item()
    times.append((time.perf_counter() - t0) * 1000)
    if (it + 1) % 250 == 0 or it + 1 == max_iters:
        val_loss = estimate("val")

@torch.no_grad()
def whole_split_loss(split, batch=16):
    """Mean loss predicting every token of the split once, in consecutive block-size windows."""
    model.eval()
    d = splits[split]
    total, count = 0.0, 0
    starts = list(range(0, len(d) - 1, block_size))
    for i in range(0, len(starts), batch):
        group = [s for s in starts[i : i + batch] if s + block_size + 1 <= len(d)]
        if group:
            x = torch.stack([d[s : s + block_size] for s in group])
            y = torch.stack([d[s + 1 : s + 1 + block_size] for s in group])
            total += model(x, y).item() * y.numel()
            count += y.numel()
    last = starts[-1]
    if last + block_size + 1 > len(d):  # the shorter last window
        x, y = d[last:-1].view(1, -1), d[last + 1 :].view(1, -1)
        total += model(x, y).item() * y.numel()
        count += y.numel()
    return total / count


steady = sorted(times[min(5, len(times) // 2) :])
print(
    json.dumps(
        {
            "iters": max_iters,
            "ms_per_step": steady[len(steady) // 2],
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_loss_full": whole_split_loss("val"),
            "tokens_per_s": batch_size * block_size / (steady[len(steady) // 2] / 1000),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "torch": torch.__version__,
        }
    )
)
