import { RingCentralNetworkError } from '../ringcentral/errors';

/** Uploads at once per process when ActivityDeps.maxConcurrentUploads is not set. */
export const DEFAULT_MAX_CONCURRENT_UPLOADS = 4;

/**
 * A counting semaphore: at most `limit` holders at once, the others wait in arrival order. The send
 * path holds one slot from loading a fax's documents until its upload has ended, so a worker holds
 * at most `limit` document sets (up to 50 MB each) in memory, whatever else is in flight.
 */
export class UploadSlots {
  private held = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`maxConcurrentUploads must be a whole number of at least 1, not ${limit}.`);
    }
  }

  /** Slots in use now (for tests and metrics). */
  get inUse(): number {
    return this.held;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Resolves with the function that gives the slot back (idempotent). An abort while waiting
   * rejects with a not-ambiguous network error: nothing was sent.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw cancelled();
    if (this.held < this.limit) {
      this.held++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(turn);
        if (i >= 0) this.queue.splice(i, 1);
        reject(cancelled());
      };
      this.queue.push(turn);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The slot was handed over by its previous holder: `held` already counts it.
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.held--;
    };
  }
}

function cancelled(): RingCentralNetworkError {
  return new RingCentralNetworkError('send cancelled while waiting for an upload slot', false);
}
