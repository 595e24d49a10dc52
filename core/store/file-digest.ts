import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Size of a local file in bytes, or -1 when it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return -1;
  }
}

/** sha256 (hex) of a local file, or of its first `bytes` bytes. */
export async function fileSha256(path: string, bytes?: number): Promise<string> {
  const hash = createHash('sha256');
  const options = bytes === undefined ? {} : { end: bytes - 1 };
  for await (const chunk of createReadStream(path, options)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function textSha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
