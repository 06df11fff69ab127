/**
 * A growable buffer of token ids. Encoding appends here instead of to a JavaScript array
 * (`Array.prototype.push` of hundreds of thousands of ids measured 3x slower), and copies out
 * once at the end. One buffer per encoding is reused across calls.
 */
export class IdBuffer {
  /** Storage; only `[0, length)` is meaningful. */
  data = new Int32Array(4096);
  /** Number of ids held. */
  length = 0;

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  /** Appends `source[from, from + count)`. */
  pushRange(source: Int32Array, from: number, count: number): void {
    if (this.length + count > this.data.length) this.grow(this.length + count);
    for (let i = 0; i < count; i++) this.data[this.length + i] = source[from + i];
    this.length += count;
  }

  /** The ids from `from` to the end, as a plain array. */
  toArray(from = 0): number[] {
    const out = new Array<number>(this.length - from);
    for (let i = from; i < this.length; i++) out[i - from] = this.data[i];
    return out;
  }

  private grow(minimum: number): void {
    let size = this.data.length * 2;
    while (size < minimum) size *= 2;
    const data = new Int32Array(size);
    data.set(this.data.subarray(0, this.length));
    this.data = data;
  }
}
