import { describe, expect, it } from 'vitest';
import type { Split, TrainingData } from '../data/source.js';
import { ReplayData } from './replay.js';

// a source whose batches name it and count its draws per split
class Tagged implements TrainingData<string> {
  private counts = { train: 0, validation: 0 };
  constructor(private readonly tag: string) {}
  next(split: Split): string {
    return `${this.tag}${split[0]}${this.counts[split]++}`;
  }
  state() {
    return { ...this.counts };
  }
  restore(state: unknown) {
    this.counts = { ...(state as { train: number; validation: number }) };
  }
}

const draw = (data: ReplayData<string>, n: number, split: Split = 'train') =>
  Array.from({ length: n }, () => data.next(split));

describe('ReplayData', () => {
  it('replays exactly the requested fraction in every prefix, evenly spread', () => {
    for (const fraction of [0, 0.1, 0.25, 1 / 3, 0.5, 0.9]) {
      const batches = draw(new ReplayData(new Tagged('B'), new Tagged('A'), { fraction }), 300);
      for (const n of [1, 7, 10, 99, 100, 300]) {
        const replayed = batches.slice(0, n).filter((b) => b.startsWith('A')).length;
        expect(replayed, `fraction ${fraction}, first ${n}`).toBe(Math.floor(n * fraction + 1e-9));
      }
    }
    const quarter = draw(new ReplayData(new Tagged('B'), new Tagged('A'), { fraction: 0.25 }), 8);
    expect(quarter).toEqual(['Bt0', 'Bt1', 'Bt2', 'At0', 'Bt3', 'Bt4', 'Bt5', 'At1']);
  });

  it('validates on the new task by default, or as asked', () => {
    const make = (validation?: 'new' | 'original' | 'mixed') =>
      new ReplayData(new Tagged('B'), new Tagged('A'), { fraction: 0.5, validation });
    expect(draw(make(), 2, 'validation')).toEqual(['Bv0', 'Bv1']);
    expect(draw(make('original'), 2, 'validation')).toEqual(['Av0', 'Av1']);
    expect(draw(make('mixed'), 4, 'validation')).toEqual(['Bv0', 'Av0', 'Bv1', 'Av1']);
  });

  it('resumes the same mixed stream', () => {
    const make = () => new ReplayData(new Tagged('B'), new Tagged('A'), { fraction: 0.3 });
    const a = make();
    draw(a, 17);
    draw(a, 3, 'validation');
    const b = make();
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(draw(b, 20)).toEqual(draw(a, 20));
    expect(() => b.restore({})).toThrow(/ReplayData\.restore: expected/);
  });

  it('rejects a fraction outside [0, 1)', () => {
    for (const fraction of [-0.1, 1, Number.NaN])
      expect(() => new ReplayData(new Tagged('B'), new Tagged('A'), { fraction })).toThrow(
        /fraction must be in \[0, 1\)/,
      );
  });
});
