import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DevsnapError, errorMessage, SnapshotIntegrityError, StoreError } from '../errors.js';
import { normalisePrefix, parseS3Location } from './s3-location.js';
import type { SnapshotStore, StoredObject, VersionedText } from './snapshot-store.js';

export interface S3SnapshotStoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for the bucket root). */
  readonly prefix?: string;
  /**
   * An S3-compatible endpoint (s3rver, MinIO); defaults to DEVSNAP_S3_ENDPOINT, else AWS. With a
   * custom endpoint the client uses path-style URLs and sends checksums only when S3 requires them,
   * which is what S3-compatible servers understand.
   */
  readonly endpoint?: string;
  readonly region?: string;
  /** Defaults to the SDK's credential chain (environment, profile, SSO, instance/Lambda role). */
  readonly credentials?: S3ClientConfig['credentials'];
  /** Multipart part size: memory use is about partSize × queueSize per upload. Minimum 5 MiB. */
  readonly partSizeBytes?: number;
  /** Parts uploaded at once. */
  readonly queueSize?: number;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000). */
  readonly listPageSize?: number;
  /** A ready client (its configuration wins over the options above). */
  readonly client?: S3Client;
}

const MIB = 1024 * 1024;
/** Object metadata holding the sha256 of the object's bytes, when known before the upload. */
const SHA256_METADATA = 'sha256';

/**
 * Snapshots in an S3 bucket under a prefix. Bodies stream through a multipart upload (bounded
 * memory, sha256 computed on the way); small objects carry their sha256 as metadata, and reads
 * check length and that checksum as the bytes arrive. latest.json is replaced with a conditional
 * write (If-Match / If-None-Match) so two exports cannot interleave their pointer updates.
 */
export class S3SnapshotStore implements SnapshotStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;

  constructor(options: S3SnapshotStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.partSize = Math.max(options.partSizeBytes ?? 8 * MIB, 5 * MIB);
    this.queueSize = options.queueSize ?? 4;
    this.listPageSize = options.listPageSize ?? 1000;
    const endpoint = options.endpoint ?? (process.env.DEVSNAP_S3_ENDPOINT || undefined);
    this.client =
      options.client ??
      new S3Client({
        region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(endpoint
          ? {
              endpoint,
              forcePathStyle: true,
              requestChecksumCalculation: 'WHEN_REQUIRED',
              responseChecksumValidation: 'WHEN_REQUIRED',
            }
          : {}),
      });
  }

  /** `s3://bucket/prefix` as accepted by `--store`. */
  static fromUrl(
    url: string,
    options: Omit<S3SnapshotStoreOptions, 'bucket' | 'prefix'> = {},
  ): S3SnapshotStore {
    const { bucket, prefix } = parseS3Location(url);
    return new S3SnapshotStore({ ...options, bucket, prefix });
  }

  localPath(): undefined {
    return undefined;
  }

  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array | string): Promise<StoredObject> {
    if (typeof body === 'string' || body instanceof Uint8Array) return this.putWhole(key, Buffer.from(body));
    const hash = createHash('sha256');
    let bytes = 0;
    // The producer's own failure (e.g. the Parquet encoder's) is the one to report, not the abort.
    let bodyError: unknown;
    const hashed = Readable.from(
      (async function* () {
        try {
          for await (const chunk of body) {
            hash.update(chunk);
            bytes += chunk.byteLength;
            yield chunk;
          }
        } catch (error) {
          bodyError = error;
          throw error;
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: hashed },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // A failed upload is aborted so no parts are left behind (and billed).
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      hashed.destroy();
      if (bodyError instanceof DevsnapError) throw bodyError;
      throw this.failure(`Could not upload ${this.url(key)}`, bodyError ?? error);
    }
    return { key, bytes, sha256: hash.digest('hex') };
  }

  get(key: string): Promise<AsyncIterable<Uint8Array>> {
    return this.getFrom(key, 0);
  }

  /**
   * Streams an object from byte `start` on (a Range request), so an interrupted pull resumes.
   * From byte 0 the object's own sha256 is checked as it streams; from later on only the length,
   * and the reader checks the whole file against the manifest.
   */
  async getFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array>> {
    const object = await this.getObject(key, start);
    if (object === null) {
      throw new StoreError(`${this.url(key)} does not exist.`, {
        hint: 'The snapshot is incomplete or was removed: run `devsnap list` to see complete snapshots.',
      });
    }
    return object.body;
  }

  async readText(key: string): Promise<string | null> {
    return (await this.readVersioned(key))?.text ?? null;
  }

  /** A URL that lets anyone holding it GET the object until it expires (at most 7 days, SigV4's limit). */
  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    try {
      return await getSignedUrl(
        this.client,
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
        {
          expiresIn: expiresInSeconds,
        },
      );
    } catch (error) {
      throw this.failure(`Could not sign a URL for ${this.url(key)}`, error);
    }
  }

  async readVersioned(key: string): Promise<VersionedText | null> {
    const object = await this.getObject(key);
    if (object === null) return null;
    const chunks: Uint8Array[] = [];
    for await (const chunk of object.body) chunks.push(chunk);
    return { text: Buffer.concat(chunks).toString('utf8'), version: object.etag };
  }

  async putIfVersion(key: string, body: string, version: string | null): Promise<StoredObject | null> {
    try {
      return await this.putWhole(key, Buffer.from(body), version);
    } catch (error) {
      // 412: the object changed (or appeared); 409: another conditional write to it was in flight;
      // 404 on If-Match: it was deleted meanwhile. In each case someone else wrote first.
      const status = (error as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata
        ?.httpStatusCode;
      if (status === 412 || status === 409 || (status === 404 && version !== null)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.objectKey(prefix),
            MaxKeys: this.listPageSize,
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw this.failure(`Could not list ${this.url(prefix)}`, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key?.startsWith(this.prefix)) keys.push(object.Key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.list(prefix);
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      let result: DeleteObjectsCommandOutput;
      try {
        result = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.objectKey(key) })), Quiet: true },
          }),
        );
      } catch (error) {
        throw this.failure(`Could not delete ${this.url(prefix)}`, error);
      }
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        throw new StoreError(
          `Could not delete ${failed.length} object(s) under ${this.url(prefix)}: ${failed
            .slice(0, 3)
            .map((entry) => `${entry.Key} (${entry.Message})`)
            .join(', ')}.`,
          { hint: 'Check that the credentials may s3:DeleteObject in this bucket.' },
        );
      }
    }
  }

  /** Writes a body held in memory with its sha256 as metadata; `version` makes it conditional. */
  private async putWhole(key: string, body: Buffer, version?: string | null): Promise<StoredObject> {
    const sha256 = createHash('sha256').update(body).digest('hex');
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          Body: body,
          ContentLength: body.byteLength,
          Metadata: { [SHA256_METADATA]: sha256 },
          ...(version === undefined ? {} : version === null ? { IfNoneMatch: '*' } : { IfMatch: version }),
        }),
      );
    } catch (error) {
      throw this.failure(`Could not write ${this.url(key)}`, error);
    }
    return { key, bytes: body.byteLength, sha256 };
  }

  private async getObject(
    key: string,
    start = 0,
  ): Promise<{ body: AsyncIterable<Uint8Array>; etag: string } | null> {
    let response: GetObjectCommandOutput;
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure(`Could not read ${this.url(key)}`, error);
    }
    // In Node the body is an http.IncomingMessage: a Readable of Buffers.
    const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    return {
      body: checkedBody(body ?? emptyBody(), {
        where: this.url(key),
        bytes: response.ContentLength,
        sha256: start > 0 ? undefined : response.Metadata?.[SHA256_METADATA],
      }),
      etag: response.ETag ?? '',
    };
  }

  private objectKey(key: string): string {
    return `${this.prefix}${key}`;
  }

  private url(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`;
  }

  private failure(what: string, error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const name = (error as { name?: string } | undefined)?.name ?? '';
    const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
      ?.httpStatusCode;
    const message = errorMessage(error);
    const hint =
      name === 'NoSuchBucket'
        ? `Create the bucket ${this.bucket} (the CDK app does) or fix --store.`
        : name === 'CredentialsProviderError' ||
            name === 'InvalidAccessKeyId' ||
            name === 'SignatureDoesNotMatch'
          ? 'Configure AWS credentials (AWS_PROFILE, environment variables or an SSO login).'
          : name === 'AccessDenied' || status === 403
            ? `Check that the credentials may read and write s3://${this.bucket}/${this.prefix}.`
            : (error as { code?: string }).code === 'ECONNREFUSED'
              ? 'Check DEVSNAP_S3_ENDPOINT: nothing is listening there.'
              : undefined;
    return new StoreError(`${what}: ${name && !message.startsWith(name) ? `${name}: ` : ''}${message}.`, {
      cause: error,
      hint,
    });
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404;
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}

/**
 * Passes an object's bytes through and, at the end, checks the count against Content-Length and
 * the sha256 against the object's metadata (when it has one), so a truncated or altered object
 * fails its reader instead of being used.
 */
async function* checkedBody(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  expected: { where: string; bytes: number | undefined; sha256: string | undefined },
): AsyncIterable<Uint8Array> {
  const hash = expected.sha256 ? createHash('sha256') : undefined;
  let bytes = 0;
  try {
    for await (const chunk of body) {
      hash?.update(chunk);
      bytes += chunk.byteLength;
      yield chunk;
    }
  } finally {
    body.destroy?.();
  }
  if (expected.bytes !== undefined && bytes !== expected.bytes) {
    throw new SnapshotIntegrityError(
      `${expected.where} ended after ${bytes} of ${expected.bytes} bytes (the download was cut short).`,
      { hint: 'Run the command again; if it keeps failing, check the network.' },
    );
  }
  const actual = hash?.digest('hex');
  if (actual !== undefined && actual !== expected.sha256) {
    throw new SnapshotIntegrityError(
      `${expected.where} does not match the sha256 recorded when it was written (${actual} ≠ ${expected.sha256}).`,
      { hint: 'The object was changed after devsnap wrote it: export a new snapshot.' },
    );
  }
}
