"""Writes src/fixtures/warpers.json: Hugging Face's logits processors and warpers, transcribed to
torch ops from transformers' generation/logits_process.py semantics, applied to seeded random
logits. The TypeScript tests compare @llmkit/sampling against these numbers.

Run with: /usr/bin/python3 packages/sampling/scripts/make-fixtures.py (needs torch).
Sorts are stable, which fixes the order of ties the way llmkit documents it."""
import json
import math
import os

import torch

NEG = -float("inf")


def temperature(scores, t):
    return scores / t


def top_k(scores, k, min_keep=1):
    k = min(max(k, min_keep), scores.size(-1))
    return scores.masked_fill(scores < torch.topk(scores, k)[0][..., -1, None], NEG)


def top_p(scores, p, min_keep=1):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False, stable=True)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - p)
    remove[..., -min_keep:] = 0
    remove = remove.scatter(1, sorted_indices, remove)
    return scores.masked_fill(remove, NEG)


def min_p(scores, m, min_keep=1):
    probs = torch.softmax(scores, dim=-1)
    top = probs.amax(dim=-1, keepdim=True)
    remove = probs < m * top
    keep = torch.topk(probs, min(min_keep, probs.shape[-1]), dim=-1).indices
    remove.scatter_(-1, keep, False)
    return scores.masked_fill(remove, NEG)


def typical(scores, mass, min_keep=1):
    normalized = torch.nn.functional.log_softmax(scores, dim=-1)
    p = torch.exp(normalized)
    ent = -(normalized * p).nansum(-1, keepdim=True)
    shifted = torch.abs((-normalized) - ent)
    sorted_scores, sorted_indices = torch.sort(shifted, descending=False, stable=True)
    sorted_logits = scores.gather(-1, sorted_indices)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    last_ind = (cumulative < mass).sum(dim=1)
    last_ind.clamp_(max=sorted_scores.shape[-1] - 1)
    remove = sorted_scores > sorted_scores.gather(1, last_ind.view(-1, 1))
    remove[..., :min_keep] = 0
    remove = remove.scatter(1, sorted_indices, remove)
    return scores.masked_fill(remove, NEG)


def repetition(scores, previous, penalty):
    if not previous:
        return scores
    ids = torch.tensor([previous])
    score = torch.gather(scores, 1, ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, ids, score)


def no_repeat_ngram(scores, previous, n):
    scores = scores.clone()
    if len(previous) + 1 < n:
        return scores
    ngrams = {}
    for i in range(len(previous) - n + 1):
        gram = tuple(previous[i : i + n])
        ngrams.setdefault(gram[:-1], []).append(gram[-1])
    for token in ngrams.get(tuple(previous[len(previous) - n + 1 :]), []):
        scores[0, token] = NEG
    return scores


def logit_bias(scores, bias):
    scores = scores.clone()
    for token, value in bias.items():
        scores[0, int(token)] += value
    return scores


def frequency(scores, previous, frequency_penalty, presence_penalty):
    scores = scores.clone()
    for token in set(previous):
        scores[0, token] -= previous.count(token) * frequency_penalty + presence_penalty
    return scores


def run(logits, previous, config):
    scores = torch.tensor([logits], dtype=torch.float32)
    if config.get("logitBias"):
        scores = logit_bias(scores, config["logitBias"])
    if config.get("repetitionPenalty", 1) != 1:
        scores = repetition(scores, previous, config["repetitionPenalty"])
    if config.get("frequencyPenalty", 0) or config.get("presencePenalty", 0):
        scores = frequency(scores, previous, config.get("frequencyPenalty", 0), config.get("presencePenalty", 0))
    if config.get("noRepeatNgramSize", 0):
        scores = no_repeat_ngram(scores, previous, config["noRepeatNgramSize"])
    if config.get("temperature", 1) != 1:
        scores = temperature(scores, config["temperature"])
    if config.get("topK", 0):
        scores = top_k(scores, config["topK"])
    if config.get("topP", 1) < 1:
        scores = top_p(scores, config["topP"])
    if config.get("minP", 0):
        scores = min_p(scores, config["minP"])
    if config.get("typicalP", 1) < 1:
        scores = typical(scores, config["typicalP"])
    out = scores[0].tolist()
    probs = torch.softmax(scores[0].double(), dim=-1).tolist()
    # Sparse: [token id, warped score, probability] for every token not set to -inf.
    return [[i, v, probs[i]] for i, v in enumerate(out) if v != NEG]


def main():
    generator = torch.Generator().manual_seed(1234)
    cases = []

    def add(name, logits, config, previous=()):
        kept = run(logits, list(previous), config)
        cases.append({"name": name, "logits": [None if v == NEG else v for v in logits],
                      "previous": list(previous), "config": config, "kept": kept})

    def random_logits(n, scale=2.0):
        return [round(v, 4) for v in (torch.randn(n, generator=generator) * scale).tolist()]

    configs = [
        {"temperature": 0.7},
        {"temperature": 1.5},
        {"topK": 5},
        {"topK": 1},
        {"topP": 0.9},
        {"topP": 0.5},
        {"topP": 0.0},
        {"minP": 0.1},
        {"minP": 0.3},
        {"typicalP": 0.9},
        {"typicalP": 0.5},
        {"temperature": 0.8, "topK": 10, "topP": 0.9},
        {"temperature": 1.3, "topK": 12, "topP": 0.8, "minP": 0.05, "typicalP": 0.95},
        {"topP": 0.7, "minP": 0.2},
    ]
    for c, config in enumerate(configs):
        for r in range(3):
            large = r == 2 and ("topP" in config or "typicalP" in config)
            add(f"random {c}.{r}", random_logits(1500 if large else 24), config)
    # Large vocabularies exercise top-p's bucketed path (more than 1024 candidates).
    add("top-p wide", random_logits(3000, 8.0), {"topP": 0.95})
    add("top-p flat", [round(v * 1e-3, 6) for v in random_logits(2000)], {"topP": 0.9})
    add("top-p near-flat ties", [float(i % 3) for i in range(2000)], {"topP": 0.75})
    # Processors.
    previous = [3, 5, 3, 7, 1, 3, 5]
    add("repetition 1.3", random_logits(16), {"repetitionPenalty": 1.3}, previous)
    add("repetition 0.7", random_logits(16), {"repetitionPenalty": 0.7}, previous)
    add("no-repeat 2", random_logits(16), {"noRepeatNgramSize": 2}, previous)
    add("no-repeat 3", random_logits(16), {"noRepeatNgramSize": 3}, [3, 5, 3, 7, 3, 5])
    add("no-repeat 1", random_logits(16), {"noRepeatNgramSize": 1}, previous)
    add("logit bias", random_logits(16), {"logitBias": {"2": 3.5, "9": -1.25}})
    add("frequency", random_logits(16), {"frequencyPenalty": 0.5, "presencePenalty": 0.25}, previous)
    add("all", random_logits(40), {"logitBias": {"4": 1.5}, "repetitionPenalty": 1.2, "frequencyPenalty": 0.1,
        "noRepeatNgramSize": 2, "temperature": 0.9, "topK": 20, "topP": 0.95, "minP": 0.02}, previous)
    # Edge cases: ties and -Infinity.
    add("top-p ties", [0.0, 0.0, 0.0, 0.0], {"topP": 0.5})
    add("top-p ties 0.6", [1.0, 0.0, 0.0, 0.0, 0.0], {"topP": 0.6})
    add("top-k ties", [1.0, 2.0, 2.0, 2.0, 0.5], {"topK": 2})
    add("top-p masked", [NEG, 1.0, NEG, 0.5, 0.25], {"topP": 0.8})
    add("top-k masked", [NEG, 1.0, NEG, NEG, NEG], {"topK": 3})
    add("min-p one", [3.0, 1.0, 2.0], {"minP": 1.0})
    with open(os.path.join(os.path.dirname(__file__), "..", "src", "fixtures", "warpers.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(len(cases), "cases")


main()
