# PyTorch peer of run.mjs: the same matmuls and MLP training step, one thread, float32.
# Prints one JSON object: {"torch": version, "matmul": {size: gflops}, "mlpStepMs": ms}.
import json
import sys
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
config = json.loads(sys.argv[1])


def best_seconds(fn, repeats):
    fn()
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


matmul = {}
for n in config['sizes']:
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    seconds = best_seconds(lambda: a @ b, config['repeats'])
    matmul[n] = 2 * n**3 / seconds / 1e9

batch, inputs, hidden, classes = config['mlp']
model = torch.nn.Sequential(torch.nn.Linear(inputs, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, classes))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
x = torch.randn(batch, inputs)
y = torch.randint(0, classes, (batch,))


def step():
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()


for _ in range(3):
    step()
steps = config['steps']
start = time.perf_counter()
for _ in range(steps):
    step()
mlp_ms = (time.perf_counter() - start) / steps * 1000
print(json.dumps({'torch': torch.__version__, 'matmul': matmul, 'mlpStepMs': mlp_ms}))
