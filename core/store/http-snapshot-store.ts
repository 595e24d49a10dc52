import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { errorMessage, StoreError } from '../errors.js';
import { LATEST_KEY, MAX_MANIFEST_BYTES } from '../manifest.js';
import { printable } from '../manifest-fields.js';
import { type ShareDocument, shareDocumentSchema } from '../share/share-document.js';
import { requireSecureUrl } from './secure-url.js';
import type { SnapshotStore, StoredObject } from './snapshot-store.js';

/**
 * A shared snapshot read over HTTPS from the presigned URLs of a share document
 * (`devsnap share`), for laptops without AWS credentials. Read-only.
 */
export class HttpSnapshotStore implements SnapshotStore {
  readonly location: string;
  private document: Promise<ShareDocument> | undefined;

  constructor(
    private readonly url: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.location = `${requireSecureUrl(url, 'The share link').origin}/… (shared snapshot)`;
  }

  localPath(): undefined {
    return undefined;
  }

  async put(key: string): Promise<StoredObject> {
    throw readOnly(key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    throw readOnly(prefix);
  }

  async list(prefix: string): Promise<string[]> {
    const document = await this.share();
    return [LATEST_KEY, ...Object.keys(document.objects)].filter((key) => key.startsWith(prefix)).sort();
  }

  async readText(key: string): Promise<string | null> {
    const document = await this.share();
    if (key === LATEST_KEY) return JSON.stringify(document.latest);
    const url = document.objects[key];
    if (url === undefined) return null;
    return readLimited(await this.fetchOk(url, key), key, MAX_MANIFEST_BYTES);
  }

  async get(key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.body(key);
  }

  async getFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    return this.body(key, start);
  }

  private async body(key: string, start = 0): Promise<AsyncIterable<Uint8Array>> {
    const url = (await this.share()).objects[key];
    if (url === undefined) throw new StoreError(`The shared snapshot has no ${key}.`);
    const response = await this.fetchOk(url, key, start > 0 ? { Range: `bytes=${start}-` } : {});
    if (start > 0 && response.status !== 206) {
      throw new StoreError(`The server ignored the range request for ${key}; cannot resume.`);
    }
    if (!response.body) return Readable.from([]);
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  private share(): Promise<ShareDocument> {
    this.document ??= (async () => {
      const response = await this.fetchOk(this.url, 'the share document');
      const text = await readLimited(response, 'the share document', MAX_MANIFEST_BYTES);
      const parsed = shareDocumentSchema.safeParse(parseJson(text));
      if (!parsed.success) {
        const [issue] = parsed.error.issues;
        const why = issue ? ` (${printable(`${issue.path.join('.')}: ${issue.message}`)})` : '';
        throw new StoreError(`${this.location} is not a devsnap share document${why}.`, {
          hint: 'Pass the URL that `devsnap share` printed, whole.',
        });
      }
      if (new Date(parsed.data.expiresAt) <= this.now()) {
        throw new StoreError(
          `This share of snapshot ${parsed.data.snapshotId} expired at ${parsed.data.expiresAt}.`,
          {
            hint: 'Ask for a new one: devsnap share <id> --store s3://… --expires 24h',
          },
        );
      }
      return parsed.data;
    })();
    return this.document;
  }

  private async fetchOk(url: string, what: string, headers: Record<string, string> = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      throw new StoreError(`Could not download ${what} from ${new URL(url).host}: ${errorMessage(error)}`, {
        cause: error,
        hint: 'Check your network connection and run the command again; downloads resume.',
      });
    }
    if (!response.ok) {
      throw new StoreError(
        `Downloading ${what} failed with HTTP ${response.status}${response.status === 403 ? ' (the link expired or was changed)' : ''}.`,
        { hint: 'Ask for a new share link: devsnap share <id> --store s3://… --expires 24h' },
      );
    }
    return response;
  }
}

/** A small object's text, refused past `max` bytes so a hostile server cannot fill memory. */
async function readLimited(response: Response, what: string, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    bytes += chunk.byteLength;
    // Throwing inside for-await ends the iteration, which cancels the download.
    if (bytes > max) {
      throw new StoreError(`${what} is larger than ${max} bytes; not part of a devsnap snapshot.`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function readOnly(key: string): StoreError {
  return new StoreError(`A shared snapshot is read-only (tried to write ${key}).`);
}
