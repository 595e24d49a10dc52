// Runs s3rver in its own process (started by test/support/s3-server.ts), because s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL 3 only offers with
// --openssl-legacy-provider: an option for a whole process, not for a vitest worker.
//
// s3rver ignores If-Match / If-None-Match on writes. Real S3 honours them, and devsnap relies on
// them to publish latest.json, so this process adds them in front of s3rver with the same status
// codes and error codes as S3: 412 PreconditionFailed when the condition fails, 404 NoSuchKey for
// If-Match on a missing key. Writes that carry a condition are serialised per key so the check and
// the write are one step, as they are in S3.
'use strict';

const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');

const { directory, buckets } = JSON.parse(process.argv[2]);

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});

const locks = new Map();

/**
 * One request at a time per object key, held until its response is sent: s3rver writes an
 * object's bytes and its metadata in two steps, so a read in between would see new bytes with old
 * metadata, which S3 (atomic per object) never shows. Conditional writes check inside the lock.
 */
async function oneAtATimePerKey(ctx, next) {
  const [, bucket, ...rest] = ctx.path.split('/');
  const key = decodeURIComponent(rest.join('/'));
  if (!bucket || !key) return next();
  const lockKey = `${bucket}/${key}`;
  const previous = locks.get(lockKey) ?? Promise.resolve();
  let release;
  const current = new Promise((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => current);
  locks.set(lockKey, chained);
  ctx.res.once('close', () => {
    release();
    if (locks.get(lockKey) === chained) locks.delete(lockKey);
  });
  await previous;
  await checkConditions(ctx, bucket, key);
  await next();
}

async function checkConditions(ctx, bucket, key) {
  const ifMatch = ctx.get('if-match');
  const ifNoneMatch = ctx.get('if-none-match');
  const isObjectWrite =
    (ctx.method === 'PUT' && !('partNumber' in ctx.query) && !('x-amz-copy-source' in ctx.headers)) ||
    (ctx.method === 'POST' && 'uploadId' in ctx.query);
  if (!isObjectWrite || (!ifMatch && !ifNoneMatch)) return;
  const etag = await currentEtag(bucket, key);
  if (ifNoneMatch && etag !== null && (ifNoneMatch === '*' || sameEtag(ifNoneMatch, etag))) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'If-None-Match',
    });
  }
  if (ifMatch && etag === null) {
    throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
  }
  if (ifMatch && ifMatch !== '*' && !sameEtag(ifMatch, etag)) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'If-Match',
    });
  }
}

async function currentEtag(bucket, key) {
  try {
    const metadata = await server.store.getMetadata(bucket, key);
    return metadata.etag ?? null;
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

function sameEtag(a, b) {
  return a.replace(/"/g, '') === String(b).replace(/"/g, '');
}

// Requests by S3 operation, so tests can see how an object was written (e.g. in parts).
const counts = {};
function countRequests(ctx, next) {
  const operation =
    ctx.method === 'PUT' && 'partNumber' in ctx.query
      ? 'UploadPart'
      : ctx.method === 'POST' && 'uploads' in ctx.query
        ? 'CreateMultipartUpload'
        : ctx.method === 'POST' && 'uploadId' in ctx.query
          ? 'CompleteMultipartUpload'
          : ctx.method === 'DELETE' && 'uploadId' in ctx.query
            ? 'AbortMultipartUpload'
            : ctx.method === 'PUT'
              ? 'PutObject'
              : `${ctx.method} ${Object.keys(ctx.query).join(',')}`;
  counts[operation] = (counts[operation] ?? 0) + 1;
  return next();
}
process.on('message', (message) => {
  if (message === 'counts') process.send({ counts });
});

// Koa composes its middleware list when the server starts listening, so these run first.
server.middleware.unshift(countRequests, oneAtATimePerKey);

server.run().then(
  (address) => process.send({ port: address.port }),
  (error) => {
    process.send({ error: String(error?.stack ?? error) });
    process.exit(1);
  },
);

// Never outlive the test process that started it.
process.on('disconnect', () => process.exit(0));
