"""Writes test/fixtures/kernels.json: seeded inputs and PyTorch's outputs and gradients for the
fused kernels, the trusted reference of src/kernels.test.ts.

Run with Debian's PyTorch: /usr/bin/python3 test/make-fixtures.py
"""
import json
import math
import os

import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)  # reference values in float64, stored as float32 lists


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


cases = {}

# layerNorm forward/backward over rows of 37 (odd width exercises vector tails)
x = (torch.randn(9, 37) * 3 + 1).requires_grad_()
w = torch.randn(37).requires_grad_()
b = torch.randn(37).requires_grad_()
y = torch.nn.functional.layer_norm(x, (37,), w, b, eps=1e-5)
dy = torch.randn(9, 37)
y.backward(dy)
cases["layerNorm"] = dict(rows=9, cols=37, eps=1e-5, x=flat(x), weight=flat(w), bias=flat(b),
                          y=flat(y), dy=flat(dy), dx=flat(x.grad), dweight=flat(w.grad),
                          dbias=flat(b.grad))

# GELU exact and tanh, values spanning the tails
for name, approximate in (("gelu", "none"), ("geluTanh", "tanh")):
    x = (torch.linspace(-9, 9, 203)).requires_grad_()
    y = torch.nn.functional.gelu(x, approximate=approximate)
    dy = torch.randn(203)
    y.backward(dy)
    cases[name] = dict(n=203, x=flat(x), y=flat(y), dy=flat(dy), dx=flat(x.grad))

# softmax and log-softmax forward/backward, with large magnitudes
for name, fn in (("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)):
    x = (torch.randn(7, 45) * 20).requires_grad_()
    y = fn(x, dim=-1)
    dy = torch.randn(7, 45)
    y.backward(dy)
    cases[name] = dict(rows=7, cols=45, x=flat(x), y=flat(y), dy=flat(dy), dx=flat(x.grad))

# cross-entropy with ignore_index and label smoothing (per-row losses, reduction none)
logits = (torch.randn(11, 65) * 4).requires_grad_()
targets = torch.randint(0, 65, (11,))
targets[3] = -100
targets[7] = -100
loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100,
                                         label_smoothing=0.1, reduction="none")
dloss = torch.rand(11)
loss.backward(dloss)
cases["crossEntropy"] = dict(rows=11, vocab=65, ignoreIndex=-100, labelSmoothing=0.1,
                             logits=flat(logits), targets=targets.tolist(), loss=flat(loss),
                             dloss=flat(dloss), dlogits=flat(logits.grad))

# causal attention, queries = keys and queries < keys (a cached prefix), value dim != key dim
for name, (h, tq, tk, d, dv) in (("attention", (3, 37, 37, 16, 16)),
                                  ("attentionPrefix", (2, 5, 70, 8, 12))):
    q = torch.randn(h, tq, d).requires_grad_()
    k = torch.randn(h, tk, d).requires_grad_()
    v = torch.randn(h, tk, dv).requires_grad_()
    scale = 1 / math.sqrt(d)
    keep = torch.ones(tq, tk, dtype=torch.bool).tril(diagonal=tk - tq)
    scores = (q @ k.transpose(-1, -2)) * scale
    out = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1) @ v
    dout = torch.randn(h, tq, dv)
    out.backward(dout)
    cases[name] = dict(heads=h, queries=tq, keys=tk, dim=d, dimV=dv, scale=scale, q=flat(q),
                       k=flat(k), v=flat(v), out=flat(out), dout=flat(dout), dq=flat(q.grad),
                       dk=flat(k.grad), dv=flat(v.grad))

# embedding backward with repeated ids
weight = torch.randn(10, 20).requires_grad_()
ids = torch.tensor([3, 1, 3, 9, 0, 3, 1])
out = torch.nn.functional.embedding(ids, weight)
dout = torch.randn(7, 20)
out.backward(dout)
cases["embedding"] = dict(vocab=10, dim=20, weight=flat(weight), ids=ids.tolist(), out=flat(out),
                          dout=flat(dout), dweight=flat(weight.grad))

# AdamW: three steps of torch.optim.AdamW on a 50-element parameter, in float32 like the kernel
torch.set_default_dtype(torch.float32)
p = torch.randn(50, requires_grad=True)
start = flat(p)
optimizer = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
grads = []
for step in range(3):
    g = torch.randn(50)
    grads.append(flat(g))
    p.grad = g
    optimizer.step()
cases["adamw"] = dict(n=50, lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weightDecay=0.1,
                      start=start, grads=grads, end=flat(p))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "kernels.json")
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
print("wrote", path)
