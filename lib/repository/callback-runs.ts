import { AsyncLocalStorage } from 'node:async_hooks';

/** Whether `value` is a promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/**
 * The runs of the callbacks a change feed hands its subscribers (or a facade its outcome consumers), so
 * that a `close()` called from inside one does not wait for that very callback, which would wait
 * forever. A run lasts until the callback returns or, when it answers a promise, until that settles.
 * Work the callback started (a timer, a promise chain) carries the run on in its async context after
 * that, marked ended: a `close()` from it waits as any caller's does.
 */
export class CallbackRuns<Owner> {
  private readonly current = new AsyncLocalStorage<{ readonly owner: Owner; running: boolean }>();

  /** Runs `callback` as a run of `owner`; answers what it answers, throws what it throws. */
  run<T>(owner: Owner, callback: () => T): T {
    const run = { owner, running: true };
    const ended = (): void => void (run.running = false);
    return this.current.run(run, () => {
      let answer: T;
      try {
        answer = callback();
      } catch (error) {
        ended();
        throw error;
      }
      // A branch of its own: the caller still handles the answer (and its rejection) as it was.
      if (isThenable(answer)) Promise.resolve(answer).then(ended, ended);
      else ended();
      return answer;
    });
  }

  /** The owner whose callback the caller runs in, while that callback still runs. */
  owner(): Owner | undefined {
    const run = this.current.getStore();
    return run?.running ? run.owner : undefined;
  }

  /** Runs `body` outside any run: work begun in a callback that must not count as part of it. */
  outside<T>(body: () => T): T {
    return this.current.exit(body);
  }
}
