import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as t from '../index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const shared = join(here, '../../../../fixtures/gpt2-tiny');

/** A file with the given header object and `dataLength` zero bytes of data. */
function build(
  header: unknown,
  dataLength: number,
  headerText = JSON.stringify(header),
): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) => ({
  dtype,
  shape,
  data_offsets: [begin, end],
});

describe('safetensors', () => {
  it('round-trips every dtype exactly, with metadata', async () => {
    const tensors: Record<string, t.Tensor> = {
      f32: t.tensor([1.5, -2, 3e-8], { dtype: 'float32' }),
      f64: t.tensor([Math.PI, -1e300], { dtype: 'float64' }),
      f16: t.tensor([0.1, -65504, 1e-5], { dtype: 'float16' }),
      bf16: t.tensor([0.1, -3e38], { dtype: 'bfloat16' }),
      i64: t.tensor(new BigInt64Array([-(2n ** 40n), 7n])),
      i32: t.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'int32' }),
      i8: t.tensor([-128, 127], { dtype: 'int8' }),
      u8: t.tensor([0, 255], { dtype: 'uint8' }),
      bool: t.tensor([true, false, true]),
      matrix: t.arange(6).reshape([2, 3]).transpose(),
      empty: t.zeros([0, 4]),
    };
    const bytes = await t.writeSafetensors(tensors, { format: 'pt' });
    const parsed = t.parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    const back = t.readSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, original] of Object.entries(tensors)) {
      expect(back[name].dtype).toBe(original.dtype);
      expect(back[name].shape).toEqual(original.shape);
      expect(Array.from(await back[name].data<Float64Array>())).toEqual(
        Array.from(await original.data<Float64Array>()),
      );
    }
    expect(await back.matrix.array()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    // Header padded to 8 bytes keeps every tensor aligned, so parsing makes views, not copies.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    expect(parsed.tensors.f64.data.buffer).toBe(bytes.buffer);
  });

  it('reads every dtype from a file made with PyTorch', async () => {
    const bytes = new Uint8Array(
      readFileSync(join(here, '../../fixtures/torch-dtypes.safetensors')),
    );
    const tensors = t.readSafetensors(bytes);
    const expected = [-2.5, -1.0, 0.0, 0.333, 1e-3, 65504.0];
    expect(Array.from(await tensors.f64.data<Float64Array>())).toEqual(expected);
    expect(Array.from(await tensors.f32.data())).toEqual(expected.map(Math.fround));
    // Bits printed by make-torch-dtypes.py: t.half().view(torch.int16), t.bfloat16().view(...).
    const f16 = [-16128, -17408, 0, 13652, 5145, 31743].map((b) => b & 0xffff);
    const bf16 = [-16352, -16512, 0, 16042, 14979, 18304].map((b) => b & 0xffff);
    expect(Array.from(await tensors.f16.data<Uint16Array>())).toEqual(f16);
    expect(Array.from(await tensors.bf16.data<Uint16Array>())).toEqual(bf16);
    // Our own conversion agrees with PyTorch's rounding.
    expect(Array.from(await tensors.f64.to('float16').data<Uint16Array>())).toEqual(f16);
    expect(Array.from(await tensors.f64.to('bfloat16').data<Uint16Array>())).toEqual(bf16);
    expect(await tensors.f16.to('float32').array()).toEqual([
      [-2.5, -1, 0],
      [0.3330078125, 0.0010004043579101562, 65504], // torch: t.half().double()
    ]);
    expect(await tensors.i64.array()).toEqual([
      [-(2 ** 40), -1, 0],
      [1, 2 ** 31, 7],
    ]);
    expect(await tensors.i32.array()).toEqual([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1]);
    expect(await tensors.i8.array()).toEqual([-128, -1, 0, 127]);
    expect(await tensors.u8.array()).toEqual([0, 1, 200, 255]);
    expect(await tensors.bool.array()).toEqual([true, false, true]);
    expect(tensors.empty.shape).toEqual([0, 3]);
  });

  it.skipIf(!existsSync(shared))('reads the gpt2-tiny checkpoint written by PyTorch', async () => {
    const model = await t.loadSafetensors(join(shared, 'model.safetensors'));
    expect(Object.keys(model)).toHaveLength(28);
    const wte = model['transformer.wte.weight'];
    expect(wte.shape).toEqual([512, 64]);
    // Sum and first values read independently with numpy.frombuffer at the header's offsets.
    expect(t.sum(wte.to('float64')).item()).toBeCloseTo(-3.3247406364944254, 10);
    expect(Array.from((await wte.data()).slice(0, 3))).toEqual(
      [-0.026493024080991745, 0.102614626288414, 0.12335041910409927].map(Math.fround),
    );
    const reference = await t.loadSafetensors(join(shared, 'reference.safetensors'));
    expect(reference.input_ids.dtype).toBe('int64');
    expect(((await reference.input_ids.to('int32').array()) as number[][])[0].slice(0, 6)).toEqual([
      67, 155, 396, 409, 378, 159,
    ]);
    expect(reference.logits.shape).toEqual([2, 24, 512]);
  });

  it('saves atomically and loads back', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'core-tensor-'));
    const path = join(folder, 'weights.safetensors');
    await t.saveSafetensors(path, { w: t.tensor([1, 2, 3]) });
    await t.saveSafetensors(path, { w: t.tensor([4, 5]) });
    expect(readdirSync(folder)).toEqual(['weights.safetensors']);
    expect(await (await t.loadSafetensors(path)).w.array()).toEqual([4, 5]);
  });

  const malformed: [string, Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /too short/],
    [
      'a header length past the end of the file',
      (() => {
        const b = build({}, 0);
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      /header length 1000 exceeds the 2 bytes/,
    ],
    ['a header that is not JSON', build(null, 0, '{"a": '), /not valid JSON/],
    [
      'a header that is not an object',
      build(null, 0, '[1, 2]'),
      /does not start with a JSON object/,
    ],
    [
      'a JSON null header',
      build(null, 0, '{}'.replace('{}', 'null')),
      /does not start with a JSON object/,
    ],
    ['an unknown dtype', build({ a: entry('F8_E4M3', [1], 0, 1) }, 1), /unknown dtype "F8_E4M3"/],
    [
      'a negative dimension',
      build({ a: entry('F32', [-1], 0, 4) }, 4),
      /shape \[-1\]; expected non-negative integers/,
    ],
    [
      'a fractional dimension',
      build({ a: entry('F32', [1.5], 0, 4) }, 4),
      /expected non-negative integers/,
    ],
    [
      'a byte size that disagrees with the shape',
      build({ a: entry('F32', [2, 3], 0, 20) }, 20),
      /needs 24 bytes but data_offsets span 20/,
    ],
    [
      'a shape whose byte size overflows',
      build({ a: entry('F32', [2 ** 40, 2 ** 40], 0, 8) }, 8),
      /needs 4835703278458516698824704 bytes/,
    ],
    [
      'offsets past the data',
      build({ a: entry('F32', [4], 0, 16) }, 8),
      /ends at 16, past the 8 data bytes/,
    ],
    [
      'overlapping tensors',
      build({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, 12),
      /overlap the previous tensor/,
    ],
    [
      'a gap between tensors',
      build({ a: entry('F32', [1], 0, 4), b: entry('F32', [1], 8, 12) }, 12),
      /bytes \[4, 8\) before tensor 'b' belong to no tensor/,
    ],
    [
      'trailing bytes no tensor covers',
      build({ a: entry('F32', [1], 0, 4) }, 8),
      /data has 8 bytes but tensors cover 4/,
    ],
    ['end before begin', build({ a: entry('F32', [0], 4, 0) }, 4), /end before begin/],
    [
      'malformed data_offsets',
      build({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4),
      /expected \[begin, end\]/,
    ],
    ['an entry that is not an object', build({ a: 3 }, 0), /entry 'a' is not an object/],
    [
      'a tensor named twice',
      build(
        null,
        8,
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      ),
      /names a tensor more than once/,
    ],
    [
      'non-string metadata',
      build({ __metadata__: { n: 1 } }, 0),
      /__metadata__ value of 'n' is not a string/,
    ],
  ];
  for (const [what, bytes, message] of malformed) {
    it(`rejects ${what}`, async () => {
      expect(() => t.parseSafetensors(bytes)).toThrow(message);
      expect(() => t.parseSafetensors(bytes)).toThrow(t.TensorError);
      expect(() => t.parseSafetensors(bytes)).toThrow(
        expect.objectContaining({ code: 'corrupt_file' }),
      );
      // the streaming loader runs the same checks on the header before reading any tensor
      const path = join(mkdtempSync(join(tmpdir(), 'core-tensor-')), 'bad.safetensors');
      writeFileSync(path, bytes);
      await expect(t.loadSafetensors(path)).rejects.toThrow(message);
    });
  }
});

describe('loadSafetensors (streaming)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'core-tensor-stream-'));
  const values = Array.from({ length: 96 }, (_, i) => Math.sin(i) * 3);

  it('reads each tensor into its buffer, converting where asked, and maps tensor by tensor', async () => {
    const path = join(folder, 'mixed.safetensors');
    await t.saveSafetensors(path, {
      w: t.tensor(values, { shape: [8, 12], dtype: 'bfloat16' }),
      b: t.tensor([1, 2, 3]),
      ids: t.tensor([5, 6], { dtype: 'int32' }),
    });
    const kept = await t.loadSafetensors(path);
    expect(kept.w.dtype).toBe('bfloat16');
    const bits = await kept.w.data<Uint16Array>();
    const expected = await t
      .tensor(values, { shape: [8, 12], dtype: 'bfloat16' })
      .data<Uint16Array>();
    expect(Array.from(bits)).toEqual(Array.from(expected));
    const seen: string[] = [];
    const converted = await t.loadSafetensors(path, {
      dtypeOf: (_name, stored, shape) =>
        stored === 'bfloat16' && shape.length === 2 ? 'float32' : stored,
      map: (name, tensor) => {
        seen.push(`${name}:${tensor.dtype}`);
        return name === 'b' ? t.mul(tensor, 2) : tensor;
      },
    });
    expect(converted.w.dtype).toBe('float32');
    expect(Array.from(await converted.w.data())).toEqual(
      Array.from(await kept.w.to('float32').data()),
    );
    expect(await converted.b.array()).toEqual([2, 4, 6]);
    expect(await converted.ids.array()).toEqual([5, 6]);
    expect(seen.sort()).toEqual(['b:float32', 'ids:int32', 'w:float32']);
  });

  it('fails naming the file when it ends before its tensors do, and keeps nothing', async () => {
    const path = join(folder, 'whole.safetensors');
    await t.saveSafetensors(path, { a: t.tensor(values), b: t.tensor(values) });
    const cut = join(folder, 'cut.safetensors');
    writeFileSync(cut, readFileSync(path).subarray(0, readFileSync(path).length - 10));
    const before = t.memory().tensors;
    await expect(t.loadSafetensors(cut)).rejects.toThrow(/past the \d+ data bytes of the file/);
    expect(t.memory().tensors).toBe(before);
  });
});
