import { errorMessage } from './errors.js';

/**
 * Undoes one thing a run created (a database being built, a snapshot folder being written) and
 * says what it did, or returns undefined when there was nothing left to undo.
 */
export type CleanupStep = () => Promise<string | undefined>;

/**
 * Where core records what it has created and not yet finished, so that an interrupted run (Ctrl-C,
 * SIGTERM) can remove it. Core adds a step when it creates something and removes it when the work
 * is complete or undone; the CLI runs what is left when a signal arrives.
 */
export interface CleanupRegistry {
  /** Registers a step; the returned function removes it again. */
  add(step: CleanupStep): () => void;
}

export const noCleanup: CleanupRegistry = { add: () => () => {} };

/** The CLI's registry: runs the steps still registered, newest first. */
export class CleanupStack implements CleanupRegistry {
  private readonly steps: CleanupStep[] = [];

  add(step: CleanupStep): () => void {
    this.steps.push(step);
    return () => {
      const index = this.steps.indexOf(step);
      if (index >= 0) this.steps.splice(index, 1);
    };
  }

  /** Runs every registered step once; returns what each did (failures included, as sentences). */
  async runAll(): Promise<string[]> {
    const done: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        const what = await step();
        if (what) done.push(what);
      } catch (error) {
        done.push(`could not clean up: ${errorMessage(error)}`);
      }
    }
    return done;
  }
}
