import { BinaryHeap } from './heap.js';
import type { IdBuffer } from './id-buffer.js';

/**
 * Byte-pair merging of one pre-tokenized piece, as tiktoken does it: repeatedly merge the
 * adjacent pair whose concatenation has the lowest rank (leftmost on ties) until no adjacent
 * pair is in the vocabulary.
 *
 * Bytes travel as "binary strings": one UTF-16 code unit per byte (0..255). A JavaScript Map
 * keyed by such strings is the fastest rank lookup available without WebAssembly.
 *
 * Short pieces use the simple quadratic loop (fastest for the usual handful of bytes); long
 * pieces use a min-heap over a linked list of parts, O(n log n), so 10,000 repeats of one
 * character do not blow up.
 */

/** Pieces longer than this many bytes take the heap path. */
const HEAP_THRESHOLD = 64;

/** Mergeable ranks: the token's bytes as a binary string (one UTF-16 unit per byte, 0..255) to its id. */
export type RankMap = Map<string, number>;

/**
 * Merges `bytes` (a binary string) into token ranks and appends them to `out`.
 *
 * @example
 * // with ranks { a:0, b:1, c:2, ab:3, abc:4 }: bytePairEncode('abcab', ranks, out) -> out = [4, 3]
 */
export function bytePairEncode(bytes: string, ranks: RankMap, out: IdBuffer): void {
  if (bytes.length === 1) {
    out.push(ranks.get(bytes)!);
    return;
  }
  if (bytes.length <= HEAP_THRESHOLD) mergeSmall(bytes, ranks, out);
  else mergeLarge(bytes, ranks, out);
}

const NO_RANK = 0x7fffffff;

// Scratch arrays reused across calls (no per-call allocation for short pieces).
const starts = new Int32Array(HEAP_THRESHOLD + 2);
const pairRanks = new Int32Array(HEAP_THRESHOLD + 2);

function rankOf(bytes: string, ranks: RankMap, from: number, to: number): number {
  const r = ranks.get(bytes.slice(from, to));
  return r === undefined ? NO_RANK : r;
}

function mergeSmall(bytes: string, ranks: RankMap, out: IdBuffer): void {
  const n = bytes.length;
  // parts: starts[0..count), with starts[count] = n as a sentinel.
  let count = n;
  for (let i = 0; i <= n; i++) starts[i] = i;
  // pairRanks[i] = rank of parts i and i+1 joined
  for (let i = 0; i < n - 1; i++) pairRanks[i] = rankOf(bytes, ranks, i, i + 2);
  while (count > 1) {
    let best = NO_RANK;
    let at = -1;
    for (let i = 0; i < count - 1; i++) {
      if (pairRanks[i] < best) {
        best = pairRanks[i];
        at = i;
      }
    }
    if (at < 0) break;
    // merge part at+1 into part at
    for (let i = at + 1; i < count; i++) starts[i] = starts[i + 1];
    for (let i = at + 1; i < count - 1; i++) pairRanks[i] = pairRanks[i + 1];
    count--;
    if (at + 1 < count) pairRanks[at] = rankOf(bytes, ranks, starts[at], starts[at + 2]);
    else pairRanks[at] = NO_RANK;
    if (at > 0) pairRanks[at - 1] = rankOf(bytes, ranks, starts[at - 1], starts[at + 1]);
  }
  for (let i = 0; i < count; i++) out.push(ranks.get(bytes.slice(starts[i], starts[i + 1]))!);
}

/**
 * Heap variant. Parts form a doubly linked list over byte positions; the heap holds candidate
 * merges (rank, left start) and entries made stale by an earlier merge are skipped when popped.
 * Ordering by (rank, left start) reproduces the quadratic loop's choice exactly, because a
 * part's start never moves when its right neighbour merges into it.
 */
function mergeLarge(bytes: string, ranks: RankMap, out: IdBuffer): void {
  const n = bytes.length;
  const next = new Int32Array(n + 1); // start of the following part, n at the end
  const prev = new Int32Array(n + 1); // start of the preceding part, -1 at the beginning
  const alive = new Uint8Array(n + 1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    alive[i] = 1;
  }
  const heap = new BinaryHeap<{ rank: number; left: number; end: number }>(
    (a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left),
  );
  const pushPair = (left: number): void => {
    const right = next[left];
    if (right >= n) return;
    const rank = rankOf(bytes, ranks, left, next[right]);
    if (rank !== NO_RANK) heap.push({ rank, left, end: next[right] });
  };
  for (let i = 0; i < n - 1; i++) pushPair(i);
  while (heap.size > 0) {
    const { left, end } = heap.pop();
    // stale if the left part died, or the pair no longer spans exactly two parts ending at `end`
    if (!alive[left]) continue;
    const right = next[left];
    if (right >= n || next[right] !== end) continue;
    alive[right] = 0;
    next[left] = end;
    if (end < n) prev[end] = left;
    pushPair(left);
    if (prev[left] >= 0) pushPair(prev[left]);
  }
  for (let i = 0; i < n; i = next[i]) out.push(ranks.get(bytes.slice(i, next[i]))!);
}
