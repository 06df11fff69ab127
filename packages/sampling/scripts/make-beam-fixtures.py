"""Writes src/fixtures/beam-search.json: Hugging Face's beam search (the vectorized
GenerationMixin._beam_search of transformers 4.5x: _get_top_k_continuations,
_get_running_beams_for_next_iteration, _update_finished_beams, _check_early_stop_heuristic,
_beam_search_has_unfinished_sequences), transcribed to torch ops for one prompt, run on a toy
model whose logits come from a hash of the sequence (the same hash as beam-search.test.ts).

Run with: /usr/bin/python3 packages/sampling/scripts/make-beam-fixtures.py (needs torch)."""
import json
import os

import torch

VOCAB = 8
EOS = 7


def imul(a, b):
    return (a * b) & 0xFFFFFFFF


def toy_logits(sequence, eos_bias=0.0):
    h = 2166136261
    for token in sequence:
        h = imul(h ^ (token + 1), 16777619)
    out = []
    for token in range(VOCAB):
        g = imul(h ^ ((token * 2654435761) & 0xFFFFFFFF), 2246822519)
        out.append((g / 4294967296) * 4 - 2)
    logits = torch.tensor(out, dtype=torch.float32)
    logits[EOS] += eos_bias  # in float32, as the test does
    return logits


def beam_search(prompt, num_beams, max_new_tokens, length_penalty, early_stopping, num_return, eos_bias):
    prompt_len = len(prompt)
    max_length = prompt_len + max_new_tokens
    beams_to_keep = max(2, 1 + 1) * num_beams
    top_num_beam_mask = torch.cat([torch.ones(num_beams, dtype=torch.bool), torch.zeros(beams_to_keep - num_beams, dtype=torch.bool)])
    running_sequences = torch.full((num_beams, max_length), -1, dtype=torch.int64)
    running_sequences[:, :prompt_len] = torch.tensor(prompt)
    sequences = running_sequences.clone()
    running_beam_scores = torch.zeros(num_beams)
    running_beam_scores[1:] = -1e9
    beam_scores = torch.full((num_beams,), -1e9)
    is_sent_finished = torch.zeros(num_beams, dtype=torch.bool)
    heuristic_unsatisfied = True
    cur_len = prompt_len
    while True:
        logits = torch.stack([toy_logits(running_sequences[b, :cur_len].tolist(), eos_bias) for b in range(num_beams)])
        log_probs = torch.log_softmax(logits, dim=-1) + running_beam_scores[:, None]
        log_probs = log_probs.reshape(-1)
        topk_log_probs, topk_indices = torch.topk(log_probs, k=beams_to_keep)
        topk_beam = topk_indices // VOCAB
        topk_ids = topk_indices % VOCAB
        topk_running_sequences = running_sequences[topk_beam].clone()
        topk_running_sequences[:, cur_len] = topk_ids
        hits = (topk_ids == EOS) | torch.tensor(cur_len + 1 >= max_length)
        # running beams for the next iteration
        topk_running_log_probs = topk_log_probs + hits.float() * -1.0e9
        next_topk = torch.topk(topk_running_log_probs, k=num_beams)[1]
        running_sequences = topk_running_sequences[next_topk]
        running_beam_scores = topk_running_log_probs[next_topk]
        # finished beams
        just_finished = hits & top_num_beam_mask
        scores = topk_log_probs / ((cur_len + 1 - prompt_len) ** length_penalty)
        full = bool(torch.all(is_sent_finished)) and early_stopping is True
        scores = scores + float(full) * -1.0e9
        scores = scores + float(not heuristic_unsatisfied) * -1.0e9
        scores = scores + (~just_finished).float() * -1.0e9
        merged_sequences = torch.cat([sequences, topk_running_sequences])
        merged_scores = torch.cat([beam_scores, scores])
        merged_finished = torch.cat([is_sent_finished, just_finished])
        keep = torch.topk(merged_scores, k=num_beams)[1]
        sequences = merged_sequences[keep]
        beam_scores = merged_scores[keep]
        is_sent_finished = merged_finished[keep]
        cur_len += 1
        # heuristic
        if early_stopping == "never" and length_penalty > 0.0:
            best_length = max_length - prompt_len
        else:
            best_length = cur_len - prompt_len
        best_running = running_beam_scores[0] / (best_length**length_penalty)
        worst = torch.where(is_sent_finished, torch.min(beam_scores), torch.tensor(-1.0e9))
        heuristic_unsatisfied = heuristic_unsatisfied and bool(torch.any(best_running > worst))
        open_beam = not (bool(torch.all(is_sent_finished)) and early_stopping is True)
        valid = not bool(torch.all(hits))
        if not (heuristic_unsatisfied and open_beam and valid):
            break
    out = []
    for b in range(num_return):
        row = sequences[b].tolist()
        generated = []
        for token in row[prompt_len:]:
            if token < 0:
                break
            generated.append(token)
            if token == EOS:
                break
        out.append({"tokens": prompt + generated, "score": float(beam_scores[b])})
    return out


def main():
    cases = []
    for prompt in ([0], [3, 5], [6, 1, 2]):
        for num_beams in (2, 3, 4):
            for length_penalty in (1.0, 0.0, -0.7, 2.0):
                for early_stopping in (False, True, "never"):
                    for max_new_tokens, eos_bias in ((3, 0.0), (6, 0.0), (10, 1.0)):
                        cases.append({
                            "prompt": prompt, "numBeams": num_beams, "lengthPenalty": length_penalty,
                            "earlyStopping": early_stopping, "maxNewTokens": max_new_tokens,
                            "numReturnSequences": num_beams, "eosBias": eos_bias,
                            "expected": beam_search(prompt, num_beams, max_new_tokens, length_penalty,
                                                    early_stopping, num_beams, eos_bias),
                        })
    path = os.path.join(os.path.dirname(__file__), "..", "src", "fixtures", "beam-search.json")
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "vocab": VOCAB, "eos": EOS, "cases": cases}, f, separators=(",", ":"))
    print(len(cases), "cases")


main()
