import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LlmkitError } from './errors.js';
import { writeFileAtomic, writeFileAtomicSync, writeFolderAtomic } from './files.js';

const scratch = () => mkdtemp(join(tmpdir(), 'llmkit-utils-'));

describe('atomic writes', () => {
  it('writeFileAtomic and writeFileAtomicSync replace a file and leave no temporary', async () => {
    const dir = await scratch();
    const path = join(dir, 'a.json');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    writeFileAtomicSync(path, new Uint8Array([104, 105]));
    expect(await readFile(path, 'utf8')).toBe('hi');
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('a failed write leaves the old file and removes the temporary', async () => {
    const dir = await scratch();
    const path = join(dir, 'a.json');
    await writeFile(path, 'old');
    // a data value that writeFile rejects, after the temporary was opened
    await expect(writeFileAtomic(path, 42 as unknown as string)).rejects.toThrow();
    expect(() => writeFileAtomicSync(path, 42 as unknown as string)).toThrow();
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('writes bytes given in chunks in order, async and sync', async () => {
    const dir = await scratch();
    const path = join(dir, 'a.bin');
    const chunks = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
    await writeFileAtomic(path, chunks);
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    writeFileAtomicSync(path, chunks.slice().reverse());
    expect([...(await readFile(path))]).toEqual([3, 1, 2]);
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it('a write into a missing folder fails and creates nothing', async () => {
    const dir = await scratch();
    await expect(writeFileAtomic(join(dir, 'no', 'a.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writeFolderAtomic writes a folder whole and replaces an existing one', async () => {
    const dir = await scratch();
    const target = join(dir, 'model');
    await writeFolderAtomic(target, { 'config.json': '{}', 'sub/w.bin': new Uint8Array([1, 2]) });
    expect((await readdir(target)).sort()).toEqual(['config.json', 'sub']);
    await writeFolderAtomic(target, { 'other.json': '[]' });
    expect(await readdir(target)).toEqual(['other.json']);
    expect(await readdir(dir)).toEqual(['model']);
  });

  it('writeFolderAtomic refuses a name that leaves the folder and keeps the old folder', async () => {
    const dir = await scratch();
    const target = join(dir, 'model');
    await writeFolderAtomic(target, { 'a.json': '1' });
    const attempt = writeFolderAtomic(target, { 'b.json': '2', '../escape.json': '3' });
    await expect(attempt).rejects.toThrow(LlmkitError);
    await expect(attempt).rejects.toThrow(/leaves the folder/);
    expect(await readdir(target)).toEqual(['a.json']);
    expect(await readdir(dir)).toEqual(['model']);
  });
});
