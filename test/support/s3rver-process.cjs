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

async function conditionalWrites(ctx, next) {
  const ifMatch = ctx.get('if-match');
  const ifNoneMatch = ctx.get('if-none-match');
  const isObjectWrite =
    (ctx.method === 'PUT' && !('partNumber' in ctx.query) && !('x-amz-copy-source' in ctx.headers)) ||
    (ctx.method === 'POST' && 'uploadId' in ctx.query);
  if (!isObjectWrite || (!ifMatch && !ifNoneMatch)) return next();

  const [, bucket, ...rest] = ctx.path.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const lockKey = `${bucket}/${key}`;
  const previous = locks.get(lockKey) ?? Promise.resolve();
  let release;
  const current = new Promise((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => current);
  locks.set(lockKey, chained);
  await previous;
  try {
    const etag = await currentEtag(bucket, key);
    if (ifNoneMatch && etag !== null && (ifNoneMatch === '*' || sameEtag(ifNoneMatch, etag))) {
      throw new S3Error(
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'If-None-Match',
        },
      );
    }
    if (ifMatch && etag === null) {
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    if (ifMatch && ifMatch !== '*' && !sameEtag(ifMatch, etag)) {
      throw new S3Error(
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'If-Match',
        },
      );
    }
    await next();
  } finally {
    release();
    if (locks.get(lockKey) === chained) locks.delete(lockKey);
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

// Koa composes its middleware list when the server starts listening, so this runs first.
server.middleware.unshift(conditionalWrites);

server.run().then(
  (address) => process.send({ port: address.port }),
  (error) => {
    process.send({ error: String(error?.stack ?? error) });
    process.exit(1);
  },
);

// Never outlive the test process that started it.
process.on('disconnect', () => process.exit(0));
