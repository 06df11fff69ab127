// Element access for every stored dtype (see buffers.ts): `load_<A>(i)` returns element i of
// buffer A in its word form (the element's bits in one u32: float32/int32 as stored, int8 sign-
// extended, uint8 as 0..255, float16/bfloat16 as their 16 bits), and `store_<O>(i, v)` writes it
// back. Packed types sit in lanes of a word: element i of a uint8 buffer is byte i % 4 of word
// i / 4. Several invocations may write lanes of one word at once, so packed stores clear their
// lane with atomicAnd and set it with atomicOr: each touches only its own bits, and the two
// atomics together leave the other lanes as they are. For one-word types the helpers are plain
// array accesses. Two-word types (float64, int64) are handled by the kernels themselves.
import type { DType } from '@llmkit/core-tensor';
import { lanesPerWord } from '../buffers.js';

/** `int8` / `uint8` / `float16`... with the same lane layout share a shader: its key part. */
export function storageKey(dtype: DType): string {
  if (dtype === 'float64' || dtype === 'int64') return 'w2';
  if (dtype === 'int8') return 'i8';
  return `w${lanesPerWord(dtype) === 1 ? 1 : `${lanesPerWord(dtype)}x`}`;
}

/**
 * The binding of a read-only buffer `name` of `dtype` and its `load_<name>(i: u32) -> u32`.
 * Example: `loadWgsl('X', 1, 'uint8')` declares X and `load_X(i)` = byte i of X.
 */
export function loadWgsl(name: string, binding: number, dtype: DType): string {
  const declaration = `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;`;
  let body: string;
  if (dtype === 'int8')
    body = `return bitcast<u32>(bitcast<i32>(${name}[i >> 2u] << (24u - (i & 3u) * 8u)) >> 24u);`;
  else if (dtype === 'uint8') body = `return (${name}[i >> 2u] >> ((i & 3u) * 8u)) & 0xffu;`;
  else if (lanesPerWord(dtype) === 2)
    body = `return (${name}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu;`;
  else body = `return ${name}[i];`;
  return `${declaration}\nfn load_${name}(i: u32) -> u32 { ${body} }`;
}

/**
 * The binding of a writable buffer `name` of `dtype` and its `store_<name>(i: u32, v: u32)`
 * (v in word form; bits above the lane are ignored). Packed types bind the buffer as atomics.
 */
export function storeWgsl(name: string, binding: number, dtype: DType): string {
  const lanes = lanesPerWord(dtype);
  if (lanes === 1)
    return `@group(0) @binding(${binding}) var<storage, read_write> ${name}: array<u32>;
fn store_${name}(i: u32, v: u32) { ${name}[i] = v; }`;
  const bits = 32 / lanes;
  const log = lanes === 4 ? 2 : 1;
  return `@group(0) @binding(${binding}) var<storage, read_write> ${name}: array<atomic<u32>>;
fn store_${name}(i: u32, v: u32) {
  let shift = (i & ${lanes - 1}u) * ${bits}u;
  let mask = ${lanes === 4 ? '0xffu' : '0xffffu'} << shift;
  atomicAnd(&${name}[i >> ${log}u], ~mask);
  atomicOr(&${name}[i >> ${log}u], (v << shift) & mask);
}`;
}
