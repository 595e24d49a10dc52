/** Data API errors after which the same call succeeds if tried again a little later. */
const RETRYABLE = new Set([
  'DatabaseResumingException',
  'DatabaseUnavailableException',
  'ServiceUnavailableError',
  'ThrottlingException',
  'TooManyRequestsException',
]);

export interface RetryOptions {
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Runs a Data API call, retrying with jittered exponential backoff while Aurora is resuming or the
 * API throttles; `onRetry` hears each wait (for a notice). Other errors are thrown at once.
 */
export async function retryDataApiCall<T>(
  call: () => Promise<T>,
  options: RetryOptions = {},
  onRetry: (message: string) => void = () => {},
): Promise<T> {
  const attempts = options.attempts ?? 10;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (!RETRYABLE.has(name) || attempt >= attempts) throw error;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      onRetry(
        `${name === 'DatabaseResumingException' ? 'The Aurora cluster is resuming' : `The Data API answered ${name}`}; trying again in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts}).`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
