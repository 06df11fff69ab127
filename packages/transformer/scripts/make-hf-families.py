# Random tiny checkpoints in Hugging Face's exact key names for the Llama, Qwen2, Qwen3 and BERT
# families, with logits from a plain PyTorch forward written from each published architecture
# (transformers is not installable here), for packages/transformer/src/hf/families.test.ts.
# Writes fixtures/hf-families/<name>/{config.json, model.safetensors (or shards), reference.json}.
# Run: /usr/bin/python3 packages/transformer/scripts/make-hf-families.py
import json, math, os, struct
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "hf-families")
torch.manual_seed(1234)

def save_safetensors(path, tensors, dtype=torch.float32):
    names = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}
    header, blobs, at = {}, [], 0
    for name, t in tensors.items():
        t = t.to(dtype).contiguous()
        raw = (t.view(torch.int16) if dtype in (torch.bfloat16, torch.float16) else t).numpy().tobytes()
        header[name] = {"dtype": names[dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw); at += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)

def rms(x, w, eps): return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

def inv_freq(cfg, hd):
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    s = cfg.get("rope_scaling")
    if not s: return inv
    factor, low, high, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    low_wl, high_wl = old / low, old / high
    wl = 2 * math.pi / inv
    scaled = torch.where(wl > low_wl, inv / factor, inv)
    smooth = (old / wl - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wl < high_wl) & ~(wl > low_wl)
    return torch.where(medium, smoothed, scaled)

def rope(x, pos, inv):  # x [B, h, T, hd]
    freqs = pos[:, None].double() * inv[None, :]
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos().float(), emb.sin().float()
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rot * sin

def llama_forward(cfg, W, ids):
    B, T = ids.shape
    H, KV, D = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    inv = inv_freq(cfg, D)
    pos = torch.arange(T)
    x = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        def proj(name, heads):
            y = h @ W[p + f"self_attn.{name}_proj.weight"].T
            if p + f"self_attn.{name}_proj.bias" in W: y = y + W[p + f"self_attn.{name}_proj.bias"]
            return y.view(B, T, heads, D)
        q, k, v = proj("q", H), proj("k", KV), proj("v", KV)
        if cfg["model_type"] == "qwen3":
            q = rms(q, W[p + "self_attn.q_norm.weight"], eps); k = rms(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = rope(q, pos, inv), rope(k, pos, inv)
        k = k.repeat_interleave(H // KV, 1); v = v.repeat_interleave(H // KV, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + y @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        g = F.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        x = x + g @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T

def llama_weights(cfg):
    V, C, H, KV, D, I = cfg["vocab_size"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["intermediate_size"]
    r = lambda *s: torch.randn(*s) * 0.2
    W = {"model.embed_tokens.weight": r(V, C), "model.norm.weight": 1 + r(C)}
    if not cfg["tie_word_embeddings"]: W["lm_head.weight"] = r(V, C)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = 1 + r(C); W[p + "post_attention_layernorm.weight"] = 1 + r(C)
        W[p + "self_attn.q_proj.weight"] = r(H * D, C); W[p + "self_attn.k_proj.weight"] = r(KV * D, C)
        W[p + "self_attn.v_proj.weight"] = r(KV * D, C); W[p + "self_attn.o_proj.weight"] = r(C, H * D)
        if cfg["model_type"] == "qwen2":
            for n, o in (("q", H * D), ("k", KV * D), ("v", KV * D)): W[p + f"self_attn.{n}_proj.bias"] = r(o)
        if cfg["model_type"] == "qwen3":
            W[p + "self_attn.q_norm.weight"] = 1 + r(D); W[p + "self_attn.k_norm.weight"] = 1 + r(D)
        W[p + "mlp.gate_proj.weight"] = r(I, C); W[p + "mlp.up_proj.weight"] = r(I, C); W[p + "mlp.down_proj.weight"] = r(C, I)
        W[p + "self_attn.rotary_emb.inv_freq"] = inv_freq(cfg, D).float()  # old files carry it
    return W

def greedy(forward, ids, steps):
    out = ids.clone()
    for _ in range(steps):
        nxt = forward(out)[:, -1].argmax(-1, keepdim=True)
        out = torch.cat([out, nxt], 1)
    return out[:, ids.shape[1]:].tolist()

def write(name, cfg, W, logits, extra, dtype=torch.float32, shards=1):
    d = os.path.join(ROOT, name); os.makedirs(d, exist_ok=True)
    for f in os.listdir(d): os.remove(os.path.join(d, f))
    with open(os.path.join(d, "config.json"), "w") as f: json.dump(cfg, f, indent=2)
    if shards == 1:
        save_safetensors(os.path.join(d, "model.safetensors"), W, dtype)
    else:
        keys = list(W); per = math.ceil(len(keys) / shards); weight_map = {}
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: W[k] for k in keys[s * per:(s + 1) * per]}
            save_safetensors(os.path.join(d, fname), part, dtype)
            weight_map.update({k: fname for k in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"logits": logits.tolist(), **extra}, f)

base = dict(vocab_size=61, hidden_size=32, intermediate_size=40, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=8, hidden_act="silu", max_position_embeddings=64, rms_norm_eps=1e-6,
            rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=False, torch_dtype="float32")
ids = torch.tensor([[3, 17, 42, 8, 5, 60, 1, 29, 11], [7, 7, 7, 20, 33, 2, 45, 9, 0]])
families = {
    "llama": dict(base, model_type="llama", architectures=["LlamaForCausalLM"], attention_bias=False,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=16)),
    "qwen2": dict(base, model_type="qwen2", architectures=["Qwen2ForCausalLM"], tie_word_embeddings=True, use_sliding_window=False, sliding_window=32),
    "qwen3": dict(base, model_type="qwen3", architectures=["Qwen3ForCausalLM"], head_dim=16, attention_bias=False),
}
for name, cfg in families.items():
    W = llama_weights(cfg)
    with torch.no_grad():
        fwd = lambda x: llama_forward(cfg, W, x)
        write(name, cfg, W, fwd(ids), {"ids": ids.tolist(), "greedy": greedy(fwd, ids[:, :4], 12)})

# Llama weights stored in bfloat16 (logits from the bf16-rounded weights), and in two shards
cfg = families["llama"]
W = {k: v.to(torch.bfloat16).float() for k, v in llama_weights(cfg).items()}
with torch.no_grad():
    fwd = lambda x: llama_forward(cfg, W, x)
    write("llama-bf16", cfg, W, fwd(ids), {"ids": ids.tolist(), "greedy": greedy(fwd, ids[:, :4], 12)}, dtype=torch.bfloat16)
W = llama_weights(cfg)
with torch.no_grad():
    fwd = lambda x: llama_forward(cfg, W, x)
    write("llama-sharded", cfg, W, fwd(ids), {"ids": ids.tolist(), "greedy": greedy(fwd, ids[:, :4], 12)}, shards=2)

# BERT for sequence classification (post-LayerNorm, exact GELU, pooler tanh, classifier)
bcfg = dict(model_type="bert", architectures=["BertForSequenceClassification"], vocab_size=50, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=4, intermediate_size=48, hidden_act="gelu", max_position_embeddings=40, type_vocab_size=2,
            layer_norm_eps=1e-12, position_embedding_type="absolute", id2label={"0": "negative", "1": "positive", "2": "neutral"},
            label2id={"negative": 0, "positive": 1, "neutral": 2})
r = lambda *s: torch.randn(*s) * 0.2
C, I = 32, 48
W = {"bert.embeddings.word_embeddings.weight": r(50, C), "bert.embeddings.position_embeddings.weight": r(40, C),
     "bert.embeddings.token_type_embeddings.weight": r(2, C), "bert.embeddings.LayerNorm.weight": 1 + r(C), "bert.embeddings.LayerNorm.bias": r(C),
     "bert.pooler.dense.weight": r(C, C), "bert.pooler.dense.bias": r(C), "classifier.weight": r(3, C), "classifier.bias": r(3)}
for i in range(2):
    p = f"bert.encoder.layer.{i}."
    for n in ("query", "key", "value"): W[p + f"attention.self.{n}.weight"] = r(C, C); W[p + f"attention.self.{n}.bias"] = r(C)
    W[p + "attention.output.dense.weight"] = r(C, C); W[p + "attention.output.dense.bias"] = r(C)
    W[p + "attention.output.LayerNorm.weight"] = 1 + r(C); W[p + "attention.output.LayerNorm.bias"] = r(C)
    W[p + "intermediate.dense.weight"] = r(I, C); W[p + "intermediate.dense.bias"] = r(I)
    W[p + "output.dense.weight"] = r(C, I); W[p + "output.dense.bias"] = r(C)
    W[p + "output.LayerNorm.weight"] = 1 + r(C); W[p + "output.LayerNorm.bias"] = r(C)
W["bert.embeddings.position_ids"] = torch.arange(40).float()[None]  # a buffer old files carry
bids = torch.tensor([[2, 14, 30, 7, 9, 3], [2, 8, 41, 3, 0, 0]])
mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
types = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0]])
def lin(x, p): return x @ W[p + ".weight"].T + W[p + ".bias"]
def ln(x, p): return F.layer_norm(x, (C,), W[p + ".weight"], W[p + ".bias"], 1e-12)
with torch.no_grad():
    B, T = bids.shape
    x = W["bert.embeddings.word_embeddings.weight"][bids] + W["bert.embeddings.position_embeddings.weight"][torch.arange(T)] + W["bert.embeddings.token_type_embeddings.weight"][types]
    x = ln(x, "bert.embeddings.LayerNorm")
    add_mask = (1 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(2):
        p = f"bert.encoder.layer.{i}."
        heads = lambda t: t.view(B, T, 4, 8).transpose(1, 2)
        q, k, v = (heads(lin(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        att = ((q @ k.transpose(-1, -2)) / math.sqrt(8) + add_mask).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = ln(x + lin(y, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = F.gelu(lin(x, p + "intermediate.dense"))
        x = ln(x + lin(h, p + "output.dense"), p + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], "bert.pooler.dense"))
    logits = lin(pooled, "classifier")
write("bert", bcfg, W, logits, {"ids": bids.tolist(), "attentionMask": mask.tolist(), "tokenTypeIds": types.tolist(), "lastHiddenState": x.tolist()})
print("wrote", os.path.abspath(ROOT))
