import { UsageError } from '../errors.js';

export interface S3Location {
  readonly bucket: string;
  /** '' or a prefix ending in '/'. */
  readonly prefix: string;
}

/** Parses `s3://bucket/prefix`; the prefix is optional and always ends in `/` when present. */
export function parseS3Location(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(url.trim());
  const bucket = match?.[1] ?? '';
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`${JSON.stringify(url)} is not an S3 location.`, {
      hint: 'Use s3://bucket or s3://bucket/prefix (bucket names are lower case).',
    });
  }
  return { bucket, prefix: normalisePrefix(match[2] ?? '') };
}

export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
