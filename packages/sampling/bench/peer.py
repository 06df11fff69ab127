"""PyTorch peer of `pnpm bench sampling`: Hugging Face's warpers as transformers implements them
(topk / sort / softmax / cumsum / scatter / masked_fill, then softmax + multinomial), one thread,
timed per token (CPU time of the process, and wall time). Prints one JSON line. Usage: python3 peer.py <vocab> <iterations>..."""
import json
import sys
import time

import torch

torch.set_num_threads(1)
NEG = -float("inf")


def repetition(input_ids, scores, penalty):
    score = torch.gather(scores, 1, input_ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(1, input_ids, score)


def top_k(scores, k):
    return scores.masked_fill(scores < torch.topk(scores, k)[0][..., -1, None], NEG)


def top_p(scores, p):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - p)
    remove[..., -1:] = 0
    remove = remove.scatter(1, sorted_indices, remove)
    return scores.masked_fill(remove, NEG)


def min_p(scores, m):
    probs = torch.softmax(scores, dim=-1)
    remove = probs < m * probs.amax(dim=-1, keepdim=True)
    remove.scatter_(-1, torch.topk(probs, 1, dim=-1).indices, False)
    return scores.masked_fill(remove, NEG)


def top_k_then_p_on_k(scores, k, p):
    """The faster way vLLM-style samplers do it: top-p over the k survivors only."""
    values, indices = torch.topk(scores, k)  # descending
    ascending = values.flip(-1)
    cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - p)
    remove[..., -1:] = 0
    ascending = ascending.masked_fill(remove, NEG)
    choice = torch.multinomial(torch.softmax(ascending, dim=-1), num_samples=1)
    return indices.flip(-1).gather(-1, choice)


def draw(scores):
    return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1)


CONFIGS = {
    "greedy": lambda ids, s: torch.argmax(s, dim=-1),
    "topK 50 + topP 0.9": lambda ids, s: draw(top_p(top_k(s, 50), 0.9)),
    "T 0.8 + topK 50 + topP 0.9 + repetition 1.1": lambda ids, s: draw(top_p(top_k(repetition(ids, s, 1.1) / 0.8, 50), 0.9)),
    "topK 50 + topP 0.9, peer sorts only the 50": lambda ids, s: top_k_then_p_on_k(s, 50, 0.9),
    "topP 0.9": lambda ids, s: draw(top_p(s, 0.9)),
    "minP 0.05": lambda ids, s: draw(min_p(s, 0.05)),
    "softmax + multinomial": lambda ids, s: draw(s),
}


def main():
    vocab = int(sys.argv[1])
    iterations = int(sys.argv[2])
    generator = torch.Generator().manual_seed(0)
    logits = [torch.randn(1, vocab, generator=generator) * 3 for _ in range(8)]
    ids = torch.randint(0, vocab, (1, 256), generator=generator)
    torch.manual_seed(0)
    results = {}
    with torch.inference_mode():
        for name, fn in CONFIGS.items():
            for i in range(20):
                fn(ids, logits[i % 8])
            n = iterations
            start = time.perf_counter()
            cpu_start = time.process_time()
            for i in range(n):
                fn(ids, logits[i % 8]).item()
            results[name] = {
                "cpu": (time.process_time() - cpu_start) / n * 1e6,
                "wall": (time.perf_counter() - start) / n * 1e6,
            }
    print(json.dumps({"torch": torch.__version__, "vocab": vocab, "microseconds": results}))


main()
