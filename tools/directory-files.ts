import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How many files a directory tree holds and their total size (demo and bench output). */
export async function directoryFiles(dir: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    count += 1;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { count, bytes };
}
