# PyTorch peer of the real-models bench's LoRA step: the Qwen3 / Llama forward written from the
# architecture in plain PyTorch (no `transformers` here): RMSNorm, rotate-half RoPE (Llama 3's
# frequency scaling when the config asks), grouped-query attention, q/k RMSNorm per head for
# Qwen3, SwiGLU MLP, tied or untied head. Weights are the folder's bf16 safetensors, parsed here
# (torch 1.13 has no safetensors package) and run in float32. LoRA as in the paper (Hu et al.,
# 2021): y = x W^T + (alpha / r) x A^T B^T with A Kaiming-uniform and B zero, on q_proj, k_proj
# and v_proj (r 8, alpha 16); AdamW over the adapter only.
#   python3 torch_lora.py '<json>'  with { dir, tokens, threads, steps, learningRate }
# Prints one JSON line: first loss, ms per step (one warm-up, then the median), peak RSS.
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

spec = json.loads(sys.argv[1])
torch.set_num_threads(spec["threads"])
torch.manual_seed(0)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_safetensors(path):
    """The bf16 tensors of one safetensors file as float32: 8-byte header size, JSON, data."""
    out = {}
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert info["dtype"] == "BF16", f"{name}: {info['dtype']}"
            start, end = info["data_offsets"]
            f.seek(8 + size + start)
            raw = torch.frombuffer(bytearray(f.read(end - start)), dtype=torch.bfloat16)
            out[name] = raw.float().reshape(info["shape"])
    return out


class LoraLinear(torch.nn.Module):
    """A frozen Linear weight [out, in] plus the low-rank update B A scaled by alpha / r."""

    def __init__(self, weight, r=8, alpha=16):
        super().__init__()
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        self.lora_A = torch.nn.Parameter(torch.empty(r, weight.shape[1]))
        self.lora_B = torch.nn.Parameter(torch.zeros(weight.shape[0], r))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / r

    def forward(self, x):
        return F.linear(x, self.weight) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def inverse_frequencies(config, dim):
    inv = 1.0 / (config["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    s = config.get("rope_scaling")
    if s and s.get("rope_type", s.get("type")) == "llama3":
        original = s["original_max_position_embeddings"]
        low, high = original / s["low_freq_factor"], original / s["high_freq_factor"]
        wavelength = 2 * math.pi / inv
        smooth = (original / wavelength - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
        scaled = torch.where(wavelength > low, inv / s["factor"], inv)
        middle = (wavelength >= high) & (wavelength <= low)
        inv = torch.where(middle, (1 - smooth) * inv / s["factor"] + smooth * inv, scaled)
    return inv.float()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Model(torch.nn.Module):
    def __init__(self, config, weights):
        super().__init__()
        self.c = config
        self.hd = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
        frozen = lambda name: torch.nn.Parameter(weights[name], requires_grad=False)  # noqa: E731
        self.embed = frozen("model.embed_tokens.weight")
        self.head = self.embed if config["tie_word_embeddings"] else frozen("lm_head.weight")
        self.norm = frozen("model.norm.weight")
        self.layers = torch.nn.ModuleList()
        for i in range(config["num_hidden_layers"]):
            p = f"model.layers.{i}."
            layer = torch.nn.Module()
            for name in ("q", "k", "v"):
                setattr(layer, f"{name}_proj", LoraLinear(weights[f"{p}self_attn.{name}_proj.weight"]))
            for short, name in [
                ("o", "self_attn.o_proj"),
                ("gate", "mlp.gate_proj"),
                ("up", "mlp.up_proj"),
                ("down", "mlp.down_proj"),
                ("ln_1", "input_layernorm"),
                ("ln_2", "post_attention_layernorm"),
            ]:
                setattr(layer, short, frozen(f"{p}{name}.weight"))
            if config["model_type"] == "qwen3":
                layer.q_norm = frozen(f"{p}self_attn.q_norm.weight")
                layer.k_norm = frozen(f"{p}self_attn.k_norm.weight")
            self.layers.append(layer)
        self.inv_freq = inverse_frequencies(config, self.hd)

    def forward(self, ids):
        c, hd = self.c, self.hd
        B, T = ids.shape
        H, KV, eps = c["num_attention_heads"], c["num_key_value_heads"], c["rms_norm_eps"]
        angles = torch.outer(torch.arange(T, dtype=torch.float32), self.inv_freq)
        cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        x = F.embedding(ids, self.embed)
        for layer in self.layers:
            h = rms_norm(x, layer.ln_1, eps)
            q = layer.q_proj(h).view(B, T, H, hd)
            k = layer.k_proj(h).view(B, T, KV, hd)
            v = layer.v_proj(h).view(B, T, KV, hd).transpose(1, 2)
            if c["model_type"] == "qwen3":
                q, k = rms_norm(q, layer.q_norm, eps), rms_norm(k, layer.k_norm, eps)
            q, k = q.transpose(1, 2), k.transpose(1, 2)  # (B, heads, T, hd)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)
            v = v.repeat_interleave(H // KV, dim=1)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)  # torch 1.13: no fused SDPA
            y = att.masked_fill(mask, -math.inf).softmax(-1) @ v
            x = x + F.linear(y.transpose(1, 2).reshape(B, T, H * hd), layer.o)
            h = rms_norm(x, layer.ln_2, eps)
            x = x + F.linear(F.silu(F.linear(h, layer.gate)) * F.linear(h, layer.up), layer.down)
        return F.linear(rms_norm(x, self.norm, eps), self.head)


config = json.load(open(os.path.join(spec["dir"], "config.json")))
index = json.load(open(os.path.join(spec["dir"], "model.safetensors.index.json")))
started = time.perf_counter()
weights = {}
for file in sorted(set(index["weight_map"].values())):
    weights.update(read_safetensors(os.path.join(spec["dir"], file)))
model = Model(config, weights)
del weights
load_seconds = time.perf_counter() - started
after_load_mb = peak_mb()
tokens = json.load(open(spec["tokens"]))
B, T = tokens["batch"], tokens["sequence"]
ids = torch.tensor(tokens["ids"], dtype=torch.long).view(B, T + 1)
inputs, targets = ids[:, :T], ids[:, 1:]
trainable = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.AdamW(trainable, lr=spec["learningRate"], weight_decay=0)
losses, step_ms = [], []
for step in range(spec["steps"]):
    started = time.perf_counter()
    logits = model(inputs)
    loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    losses.append(loss.item())
    step_ms.append((time.perf_counter() - started) * 1000)
measured = sorted(step_ms[1:]) or step_ms
print(
    json.dumps(
        {
            "torch": torch.__version__,
            "trainable": sum(p.numel() for p in trainable),
            "target": "q_proj, k_proj, v_proj",
            "loadSeconds": load_seconds,
            "losses": losses,
            "stepMs": step_ms,
            "msPerStep": measured[len(measured) // 2],
            "afterLoadMb": after_load_mb,
            "peakMb": peak_mb(),
        }
    )
)
