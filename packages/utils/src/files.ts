// Atomic file and folder writes: one behaviour for every package that saves something.
// A write goes to a temporary name in the destination's folder, is fsynced, renamed into place,
// and the folder is fsynced, so a crash leaves the old contents or the new, never half of them.
// On failure the temporary is removed and the destination is untouched.
//
// Node only: node:fs is looked up when a function is called (`process.getBuiltinModule`), so
// importing this module in a browser bundle is safe; calling it there throws `unsupported`.
import { LlmkitError } from './errors.js';

type NodeFs = typeof import('node:fs');
type NodeFsPromises = typeof import('node:fs/promises');
type NodePath = typeof import('node:path');

/**
 * A Node.js built-in module, looked up when called (`process.getBuiltinModule`), so that a module
 * using it stays safe to bundle for a browser. Throws `LlmkitError('unsupported')` naming `caller`
 * where the runtime has none.
 *
 * @example
 * ```ts
 * const fs = nodeBuiltin<typeof import('node:fs')>('node:fs', 'loadEncodingFile');
 * ```
 */
export function nodeBuiltin<T>(id: string, caller: string): T {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  const found = get?.(id);
  if (!found)
    throw new LlmkitError(
      'unsupported',
      `${caller} needs Node.js ${id} (Node >= 20.16); it is not available in this runtime`,
    );
  return found as T;
}

/** A temporary name beside `path`: hidden, unique to this process and call, ending `.tmp`. */
export function temporaryPath(path: string): string {
  const { dirname, basename, join } = nodeBuiltin<NodePath>('node:path', 'temporaryPath');
  const unique = `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.${unique}.tmp`);
}

/**
 * What the atomic writers accept: text, bytes, or bytes in chunks (written in order without
 * first joining them, so a large file such as a GGUF export is not held twice in memory).
 */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/**
 * Writes `data` to `path` atomically (temporary file, fsync, rename, fsync of the folder).
 *
 * @example
 * ```ts
 * await writeFileAtomic('run/config.json', JSON.stringify(config));
 * ```
 */
export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const fs = nodeBuiltin<NodeFsPromises>('node:fs/promises', 'writeFileAtomic');
  const { dirname } = nodeBuiltin<NodePath>('node:path', 'writeFileAtomic');
  const temporary = temporaryPath(path);
  try {
    await writeSynced(fs, temporary, data);
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(dirname(path));
}

/** The synchronous twin of {@link writeFileAtomic}, with the same behaviour. */
export function writeFileAtomicSync(path: string, data: FileData): void {
  const fs = nodeBuiltin<NodeFs>('node:fs', 'writeFileAtomicSync');
  const { dirname } = nodeBuiltin<NodePath>('node:path', 'writeFileAtomicSync');
  const temporary = temporaryPath(path);
  try {
    const fd = fs.openSync(temporary, 'w');
    try {
      if (isChunks(data)) for (const chunk of data) fs.writeSync(fd, chunk);
      else fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, path);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  const fd = fs.openSync(dirname(path), 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a whole folder atomically: every file goes into a hidden temporary folder beside `dir`
 * and is fsynced, then the folder replaces `dir` (an existing `dir` is moved aside first and
 * removed after) and the parent is fsynced. Readers see the old folder or the new one, whole.
 * Files are given as `name -> data` (names may contain `/` for subfolders).
 *
 * @example
 * ```ts
 * await writeFolderAtomic('models/tiny', {
 *   'config.json': JSON.stringify(config),
 *   'model.safetensors': bytes,
 * });
 * ```
 */
export async function writeFolderAtomic(
  dir: string,
  files: Record<string, FileData>,
): Promise<void> {
  const fs = nodeBuiltin<NodeFsPromises>('node:fs/promises', 'writeFolderAtomic');
  const { dirname, join, resolve } = nodeBuiltin<NodePath>('node:path', 'writeFolderAtomic');
  const parent = dirname(resolve(dir));
  await fs.mkdir(parent, { recursive: true });
  const temporary = temporaryPath(resolve(dir));
  const stale = `${temporary.slice(0, -'.tmp'.length)}.old`;
  try {
    await fs.mkdir(temporary);
    for (const [name, data] of Object.entries(files)) {
      const target = join(temporary, name);
      if (!resolve(target).startsWith(`${resolve(temporary)}/`))
        throw new LlmkitError(
          'invalid_argument',
          `writeFolderAtomic: file name ${JSON.stringify(name)} leaves the folder`,
        );
      await fs.mkdir(dirname(target), { recursive: true });
      await writeSynced(fs, target, data);
    }
    await syncFolder(temporary);
    const existed = await fs.rename(dir, stale).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    try {
      await fs.rename(temporary, dir);
    } catch (error) {
      if (existed) await fs.rename(stale, dir);
      throw error;
    }
    await syncFolder(parent);
    if (existed) await fs.rm(stale, { recursive: true, force: true });
  } catch (error) {
    await fs.rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

function isChunks(data: FileData): data is readonly Uint8Array[] {
  return Array.isArray(data);
}

async function writeSynced(fs: NodeFsPromises, path: string, data: FileData): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    if (isChunks(data)) for (const chunk of data) await handle.write(chunk);
    else await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a folder, so a rename inside it survives a crash. */
export async function syncFolder(dir: string): Promise<void> {
  const fs = nodeBuiltin<NodeFsPromises>('node:fs/promises', 'syncFolder');
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
