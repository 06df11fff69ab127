# Reference values for @llmkit/rlhf's losses, computed in PyTorch (float64) straight from the
# papers' formulas (no TRL: it is not installable here), written to src/fixtures/losses.json.
# Run: /usr/bin/python3 packages/rlhf/scripts/make-fixtures.py
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(0)
d = torch.float64
out = {}

def grad_of(loss, *xs):
    gs = torch.autograd.grad(loss, xs)
    return [g.tolist() for g in gs]

# DPO (Rafailov et al. 2023), IPO (Azar et al. 2023), hinge (Zhao et al. 2023)
B = 6
pc = torch.randn(B, dtype=d) * 3 - 20
pr = torch.randn(B, dtype=d) * 3 - 22
rc = pc.detach() + torch.randn(B, dtype=d)
rr = pr.detach() + torch.randn(B, dtype=d)
dpo = {"policyChosen": pc.tolist(), "policyRejected": pr.tolist(), "referenceChosen": rc.tolist(), "referenceRejected": rr.tolist(), "cases": []}
for loss_type, beta, ls in [("sigmoid", 0.1, 0.0), ("sigmoid", 0.5, 0.1), ("ipo", 0.1, 0.0), ("hinge", 0.3, 0.0)]:
    a = pc.clone().requires_grad_(True); b = pr.clone().requires_grad_(True)
    h = (a - rc) - (b - rr)
    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * h) * (1 - ls) - F.logsigmoid(-beta * h) * ls
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        losses = torch.relu(1 - beta * h)
    loss = losses.mean()
    ga, gb = grad_of(loss, a, b)
    cr = beta * (pc - rc); rj = beta * (pr - rr)
    dpo["cases"].append({"lossType": loss_type, "beta": beta, "labelSmoothing": ls, "loss": loss.item(), "gradChosen": ga, "gradRejected": gb,
                         "accuracy": (cr > rj).double().mean().item(), "margin": (cr - rj).mean().item()})
out["dpo"] = dpo

# Bradley-Terry reward loss with a margin (Ouyang et al. 2022; Touvron et al. 2023)
c = torch.randn(5, dtype=d).requires_grad_(True); r = torch.randn(5, dtype=d).requires_grad_(True)
m = torch.rand(5, dtype=d)
loss = -F.logsigmoid(c - r - m).mean()
gc, gr = grad_of(loss, c, r)
out["bradleyTerry"] = {"chosen": c.tolist(), "rejected": r.tolist(), "margin": m.tolist(), "loss": loss.item(), "gradChosen": gc, "gradRejected": gr}

# GAE (Schulman et al. 2016), gamma 1, lambda 0.95 and gamma 0.9, lambda 0.8
T = 7
rewards = torch.randn(T, dtype=d); values = torch.randn(T, dtype=d)
gae = {"rewards": rewards.tolist(), "values": values.tolist(), "cases": []}
for gamma, lam in [(1.0, 0.95), (0.9, 0.8)]:
    adv = torch.zeros(T, dtype=d); last = 0.0
    for t in reversed(range(T)):
        nv = values[t + 1] if t + 1 < T else 0.0
        delta = rewards[t] + gamma * nv - values[t]
        last = delta + gamma * lam * last
        adv[t] = last
    gae["cases"].append({"gamma": gamma, "lambda": lam, "advantages": adv.tolist(), "returns": (adv + values).tolist()})
out["gae"] = gae

# PPO clipped policy and value losses (Schulman et al. 2017), masked mean over tokens
shape = (3, 5)
logp = (torch.randn(shape, dtype=d) * 0.3 - 2)
old = logp + torch.randn(shape, dtype=d) * 0.3
adv = torch.randn(shape, dtype=d)
mask = (torch.rand(shape) > 0.25).double(); mask[:, 0] = 1
lp = logp.clone().requires_grad_(True)
ratio = torch.exp(lp - old)
pg = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 0.8, 1.2))
ploss = (pg * mask).sum() / mask.sum()
(gp,) = grad_of(ploss, lp)
vals = torch.randn(shape, dtype=d); old_vals = vals + torch.randn(shape, dtype=d) * 0.3; returns = torch.randn(shape, dtype=d)
v = vals.clone().requires_grad_(True)
vclip = old_vals + torch.clamp(v - old_vals, -0.2, 0.2)
vloss = 0.5 * (torch.max((v - returns) ** 2, (vclip - returns) ** 2) * mask).sum() / mask.sum()
(gv,) = grad_of(vloss, v)
out["ppo"] = {"logProbs": logp.tolist(), "oldLogProbs": old.tolist(), "advantages": adv.tolist(), "mask": mask.tolist(), "clipRange": 0.2,
              "policyLoss": ploss.item(), "gradLogProbs": gp,
              "values": vals.tolist(), "oldValues": old_vals.tolist(), "returns": returns.tolist(), "clipRangeValue": 0.2,
              "valueLoss": vloss.item(), "gradValues": gv}

# GRPO (Shao et al. 2024): group advantages, k3 KL, per-sequence token mean
G = 4; Bg = 8; Tg = 6
rw = torch.randn(Bg, dtype=d)
grouped = rw.view(-1, G)
A = ((grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-4)).view(-1)
logp = torch.randn(Bg, Tg, dtype=d) * 0.3 - 2
old = logp + torch.randn(Bg, Tg, dtype=d) * 0.2
ref = logp + torch.randn(Bg, Tg, dtype=d) * 0.2
mask = (torch.rand(Bg, Tg) > 0.2).double(); mask[:, 0] = 1
lp = logp.clone().requires_grad_(True)
ratio = torch.exp(lp - old)
kl = torch.exp(ref - lp) - (ref - lp) - 1
per_token = -torch.min(ratio * A[:, None], torch.clamp(ratio, 0.8, 1.2) * A[:, None]) + 0.04 * kl
loss = ((per_token * mask).sum(1) / mask.sum(1)).mean()
(gl,) = grad_of(loss, lp)
out["grpo"] = {"rewards": rw.tolist(), "groupSize": G, "advantages": A.tolist(), "logProbs": logp.tolist(), "oldLogProbs": old.tolist(),
               "referenceLogProbs": ref.tolist(), "mask": mask.tolist(), "clipRange": 0.2, "klCoefficient": 0.04,
               "loss": loss.item(), "gradLogProbs": gl, "kl": ((kl * mask).sum() / mask.sum()).item()}

path = os.path.join(os.path.dirname(__file__), "..", "src", "fixtures", "losses.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
