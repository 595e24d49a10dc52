/**
 * Errors devsnap expects: each says what happened, to which object, and what to do next.
 * Shells print `message` (and `hint`) as one clear line and exit non-zero; anything else is a bug
 * and is printed with its stack.
 */
export class DevsnapError extends Error {
  override name = 'DevsnapError';
  /** What the user can do about it, shown under the message. */
  readonly hint: string | undefined;
  /** Process exit code the CLI uses for this kind of failure. */
  readonly exitCode: number = 1;

  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** Bad flags, bad config, unknown names: nothing was touched. */
export class UsageError extends DevsnapError {
  override name = 'UsageError';
  override readonly exitCode = 2;
}

/** The database could not be reached or refused a statement. */
export class DatabaseError extends DevsnapError {
  override name = 'DatabaseError';
  override readonly exitCode = 3;
}

/** The snapshot store is missing, empty or unreadable. */
export class StoreError extends DevsnapError {
  override name = 'StoreError';
  override readonly exitCode = 4;
}

/** A snapshot file is truncated, corrupt or does not match its manifest. */
export class SnapshotIntegrityError extends DevsnapError {
  override name = 'SnapshotIntegrityError';
  override readonly exitCode = 5;
}

/** The user declined a destructive step, or no terminal was there to ask. */
export class ConfirmationError extends DevsnapError {
  override name = 'ConfirmationError';
  override readonly exitCode = 6;
}

/** The source layer was asked to run a statement that is not a plain read; `reason` says why. */
export class ReadOnlyViolationError extends DevsnapError {
  override name = 'ReadOnlyViolationError';
  constructor(
    readonly reason: string,
    options: { hint?: string } = {},
  ) {
    super(`devsnap only reads from the source database and refused a statement: ${reason}.`, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
