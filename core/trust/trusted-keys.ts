import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { errorMessage, UsageError } from '../errors.js';
import { type PublicSigningKey, parsePublicKey } from './public-key.js';

/** The keys whose signatures a pull or import accepts; empty means signatures are not required. */
export interface TrustPolicy {
  readonly keys: readonly PublicSigningKey[];
}

export const NO_TRUSTED_KEYS: TrustPolicy = Object.freeze({ keys: [] });

/** `DEVSNAP_TRUSTED_KEYS`: public keys (base64 DER, comma- or space-separated, or PEM blocks). */
export const TRUSTED_KEYS_ENV = 'DEVSNAP_TRUSTED_KEYS';

/**
 * Where `devsnap trust` keeps trusted keys: $DEVSNAP_CONFIG_DIR, else $XDG_CONFIG_HOME/devsnap,
 * else ~/.config/devsnap.
 */
export function defaultConfigDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEVSNAP_CONFIG_DIR) return resolve(env.DEVSNAP_CONFIG_DIR);
  const base = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config');
  return join(base, 'devsnap');
}

const trustFileSchema = z.strictObject({
  keys: z.array(
    z.strictObject({
      id: z.string(),
      name: z.string().max(200),
      publicKey: z.string(),
      addedAt: z.string(),
    }),
  ),
});
export type TrustFileEntry = z.infer<typeof trustFileSchema>['keys'][number];

/** The keys saved with `devsnap trust add`, as saved. */
export class TrustFile {
  readonly path: string;

  constructor(configDirectory: string) {
    this.path = join(configDirectory, 'trusted-keys.json');
  }

  async entries(): Promise<TrustFileEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new UsageError(`Cannot read ${this.path}: ${errorMessage(error)}`, { cause: error });
    }
    const parsed = trustFileSchema.safeParse(safeJson(text));
    if (!parsed.success) {
      throw new UsageError(`${this.path} is not a devsnap trusted-keys file.`, {
        hint: 'Fix or delete it, then add the keys again with devsnap trust add.',
      });
    }
    for (const entry of parsed.data.keys) parsePublicKey(entry.publicKey, `${this.path}: key ${entry.id}`);
    return parsed.data.keys;
  }

  async keys(): Promise<PublicSigningKey[]> {
    return (await this.entries()).map((entry) =>
      parsePublicKey(entry.publicKey, `${this.path}: ${entry.id}`),
    );
  }

  /** Adds a key (or renames one already there); returns its entry. */
  async add(key: PublicSigningKey, name: string, now = new Date()): Promise<TrustFileEntry> {
    const entries = (await this.entries()).filter((entry) => entry.id !== key.id);
    const entry = { id: key.id, name, publicKey: key.spki, addedAt: now.toISOString() };
    await this.write([...entries, entry]);
    return entry;
  }

  /** Removes the key with this id (or unique id prefix); returns it, or null when none matched. */
  async remove(id: string): Promise<TrustFileEntry | null> {
    const entries = await this.entries();
    const matches = entries.filter((entry) => id.length >= 4 && entry.id.startsWith(id.toLowerCase()));
    if (matches.length > 1) {
      throw new UsageError(`Key id ${id} matches ${matches.length} trusted keys.`, {
        hint: 'Give more digits.',
      });
    }
    const [match] = matches;
    if (!match) return null;
    await this.write(entries.filter((entry) => entry !== match));
    return match;
  }

  /** Written whole and renamed into place, readable by the user only. */
  private async write(keys: TrustFileEntry[]): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.partial`;
    await writeFile(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }
}

/**
 * Every key the user trusts, from the three places one can be given: the config's `trust.keys`,
 * $DEVSNAP_TRUSTED_KEYS, and the keys saved with `devsnap trust add`.
 */
export async function resolveTrust(options: {
  readonly configKeys?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly configDirectory?: string;
}): Promise<TrustPolicy> {
  const keys = new Map<string, PublicSigningKey>();
  const add = (key: PublicSigningKey) => {
    keys.set(key.id, key);
  };
  options.configKeys?.forEach((text, index) => {
    add(parsePublicKey(text, `trust.keys[${index}] in the config`));
  });
  for (const text of splitKeys(options.env[TRUSTED_KEYS_ENV] ?? ''))
    add(parsePublicKey(text, TRUSTED_KEYS_ENV));
  const file = new TrustFile(options.configDirectory ?? defaultConfigDirectory(options.env));
  for (const key of await file.keys()) add(key);
  return { keys: [...keys.values()] };
}

/** PEM blocks whole, and base64 keys separated by commas or white space; nothing is skipped. */
function splitKeys(text: string): string[] {
  const pem = /-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g;
  const blocks = text.match(pem) ?? [];
  return [
    ...blocks,
    ...text
      .replace(pem, ' ')
      .split(/[\s,]+/)
      .filter(Boolean),
  ];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
