import type { SealCheck } from '../core/trust/check-seal.js';
import type { CliIo } from './cli-context.js';

/** Prints a command's result: one JSON document for scripts, or text for people. */
export function emit(io: CliIo, json: boolean | undefined, value: object, text: () => string): void {
  if (json) io.stdout.write(`${JSON.stringify({ ok: true, ...value }, null, 2)}\n`);
  else io.stdout.write(`${text()}\n`);
}

/** One line on who vouches for a pulled or imported snapshot. */
export function sealLine(seal: SealCheck): string {
  switch (seal.signature) {
    case 'verified':
      return `Signed by trusted key ${seal.keyId}.`;
    case 'unchecked':
      return `Signed by key ${seal.keyId}, not checked: you trust no keys (devsnap trust add).`;
    case 'unsigned':
      return 'Not signed; its files matched its sealed manifest.';
  }
}
