import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

/**
 * A URL devsnap downloads a snapshot from: https, or plain http to this machine only (tests, a
 * local S3-compatible server). Over plain http anyone on the path could swap the files and the
 * manifest together.
 */
export function requireSecureUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${what} is not a URL.`, {
      hint: 'Pass the https:// link that devsnap share printed, whole.',
    });
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && isLoopback(parsed.hostname)) return parsed;
  throw new UsageError(`${what} must use https:// (got ${parsed.protocol}//${parsed.host}).`, {
    hint: 'Share links are https; plain http is accepted only for a server on this machine (localhost).',
  });
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}
