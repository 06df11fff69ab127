import type { Encoding } from './encoding.js';

/**
 * Turns ids arriving one at a time (from a model generating text) into text, emitting only
 * complete UTF-8 characters: a character whose bytes are split across tokens is held back
 * until its last byte arrives. The concatenation of every `push` and the final `flush` equals
 * `encoding.decode(allIds)`.
 *
 * @example
 * ```ts
 * const stream = new StreamingDecoder(getEncoding('cl100k_base'));
 * for (const id of getEncoding('cl100k_base').encode('héllo 👋')) process.stdout.write(stream.push(id));
 * process.stdout.write(stream.flush()); // prints: héllo 👋
 * ```
 */
export class StreamingDecoder {
  // WHATWG streaming decode holds incomplete sequences and gives the same output as one shot.
  private decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(private readonly encoding: Pick<Encoding, 'tokenBytes'>) {}

  /** Adds one id; returns the text that is now complete (possibly empty). */
  push(id: number): string {
    return this.decoder.decode(this.encoding.tokenBytes(id), { stream: true });
  }

  /** Ends the stream: returns what is held back, with U+FFFD for an unfinished character. */
  flush(): string {
    const rest = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return rest;
  }
}
