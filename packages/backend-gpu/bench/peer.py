# PyTorch peer of bench/run.mjs: float32 GEMM and a GPT training step (the model of bench/gpt.mjs)
# on CUDA when available, else on the CPU. Prints one JSON line.
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

args = json.loads(sys.argv[1])
device = 'cuda' if torch.cuda.is_available() else 'cpu'
if device == 'cpu':
    torch.set_num_threads(args.get('threads', 1))
tf32 = bool(args.get('tf32', False))
if device == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32

def sync():
    if device == 'cuda':
        torch.cuda.synchronize()

def timed(fn, min_seconds, min_runs=3):
    fn(); sync()
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_seconds:
        fn(); runs += 1
    sync()
    return (time.perf_counter() - start) / runs

class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(C); self.c_attn = nn.Linear(C, 3 * C); self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C); self.c_fc = nn.Linear(C, 4 * C); self.mlp_proj = nn.Linear(4 * C, C)
    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = [t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(torch.ones(T, T, device=x.device, dtype=torch.bool).tril().logical_not(), float('-inf'))
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))

class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c['vocab'], c['embd']); self.wpe = nn.Embedding(c['block'], c['embd'])
        self.h = nn.ModuleList([Block(c['embd'], c['heads']) for _ in range(c['layers'])])
        self.ln_f = nn.LayerNorm(c['embd'])
    def forward(self, ids, targets):
        B, T = ids.shape
        x = self.wte(ids) + self.wpe(torch.arange(T, device=ids.device))
        for block in self.h: x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(B * T, -1), targets.view(-1))

out = {'device': torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu', 'torch': torch.__version__, 'tf32': tf32, 'gemm': {}, 'train': {}}
for n in args.get('gemm', []):
    a = torch.randn(n, n, device=device); b = torch.randn(n, n, device=device)
    seconds = timed(lambda: torch.matmul(a, b), args.get('seconds', 1.0))
    out['gemm'][str(n)] = 2 * n ** 3 / seconds / 1e9
for name, c in args.get('train', {}).items():
    torch.manual_seed(0)
    model = Gpt(c).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, c['vocab'], (c['batch'], c['block']), device=device)
    targets = torch.randint(0, c['vocab'], (c['batch'], c['block']), device=device)
    def step():
        opt.zero_grad(set_to_none=True)
        model(ids, targets).backward()
        opt.step()
    out['train'][name] = timed(step, args.get('seconds', 1.0), 2) * 1000
print(json.dumps(out))
