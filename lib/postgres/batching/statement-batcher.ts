/**
 * The event loop's `setImmediate`, taken when this module loads, so that fake timers installed after
 * it (sinon's fake `setImmediate` by default) do not keep statements from starting; fakes installed
 * before the library is imported would be taken instead.
 */
const atEndOfTurn: (callback: () => void) => unknown = globalThis.setImmediate;

/** How a {@link StatementBatcher} forms its statements. */
export interface StatementBatcherOptions<Request, Answer> {
  /**
   * Runs ONE statement for a batch and answers one entry per request, in the batch's order. A rejection
   * rejects every caller of the batch with the same reason.
   */
  readonly run: (batch: readonly Request[]) => Promise<readonly Answer[]>;
  /** Requests of equal shape can share a statement (e.g. the same topics, scope and time). */
  readonly shapeOf: (request: Request) => string;
  /**
   * Requests of equal conflict key never share a statement nor run in two statements at once: the later
   * waits for the earlier's statement to settle, so that two writes of one task behave as if sequential.
   * @default no conflicts
   */
  readonly conflictOf?: ((request: Request) => string) | undefined;
  /** What a request weighs against `maxWeight` (e.g. the tasks it asks for). @default 1 */
  readonly weightOf?: ((request: Request) => number) | undefined;
  /** The most a statement carries; a request heavier than that still gets a statement of its own. */
  readonly maxWeight: number;
  /** How many statements may be in flight at once (each on a connection of its own). */
  readonly maxInFlight: number;
  /**
   * How many statements of one shape may be in flight at once: requests of a shape whose statements
   * are all taken wait for one of them to settle, and go in the next. @default maxInFlight
   */
  readonly maxInFlightPerShape?: number | undefined;
  /**
   * Whether a failure of a shared statement may be one request's fault (the database refused a value of
   * it) rather than the statement's (a lost connection). Then each request of the batch runs again in a
   * statement of its own, so that only the request at fault fails; the failed statement changed nothing,
   * being one statement. @default never: every caller of the batch gets the failure
   */
  readonly mayBeOneRequestsFault?: ((error: unknown) => boolean) | undefined;
}

interface Queued<Request, Answer> {
  readonly request: Request;
  /** Its shape, reckoned once when it is queued. */
  readonly shape: string;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Lets concurrent calls of one process share a statement, since each statement's commit, not the work
 * in it, is what a statement costs.
 *
 * States: idle (nothing queued, nothing in flight); a call queues its request and, if no flush is
 * pending, schedules one for the end of this turn of the event loop (`setImmediate`). So the calls made
 * in one turn go together — also callers resumed by one statement's answer whose ways back to the store
 * differ by a few promise jobs, which a flush on a microtask would split (16 workers asking for one task
 * each went in claims of 1, 1 and 14 instead of one of 16); a lone caller waits for no timer, only for
 * the rest of the turn. A flush starts statements while fewer than `maxInFlight` run and queued requests can
 * go: each statement takes the first request that can go (its shape has fewer than `maxInFlightPerShape`
 * statements in flight) and, in queue order, every further one of the same shape that does not conflict
 * with it or with a statement in flight, up to `maxWeight`. When a statement settles, its callers get
 * their answers (or its failure) and the batcher flushes again, so whatever queued while it ran goes in
 * the next statement. Nothing is ever left queued without a statement in flight that will flush it.
 */
export class StatementBatcher<Request, Answer> {
  private queue: Queued<Request, Answer>[] = [];
  private inFlight = 0;
  /** The conflict keys of the requests in flight, with how many of them hold each. */
  private readonly busy = new Map<string, number>();
  /** The shapes of the statements in flight, with how many statements have each. */
  private readonly shapesInFlight = new Map<string, number>();
  private flushScheduled = false;

  constructor(private readonly options: StatementBatcherOptions<Request, Answer>) {}

  /** Queues a request; answers what its statement answered for it. */
  submit(request: Request): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.queue.push({ request, shape: this.options.shapeOf(request), resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      atEndOfTurn(() => {
        this.flushScheduled = false;
        this.flush();
      });
    });
  }

  /** Requests waiting for a statement (for tests and diagnostics). */
  get queued(): number {
    return this.queue.length;
  }

  /** Statements in flight (for tests and diagnostics). */
  get running(): number {
    return this.inFlight;
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return; // everything queued waits for a statement in flight
      this.start(batch);
    }
  }

  /** Removes the requests of the next statement from the queue (none if all wait for a conflict). */
  private take(): Queued<Request, Answer>[] {
    const { conflictOf, weightOf, maxWeight, maxInFlightPerShape = Infinity } = this.options;
    const batch: Queued<Request, Answer>[] = [];
    const rest: Queued<Request, Answer>[] = [];
    /** Conflict keys taken or passed over in this pass: a later request of one must not overtake it. */
    const seen = new Set<string>();
    let shape: string | undefined;
    let weight = 0;
    for (const queued of this.queue) {
      const conflict = conflictOf?.(queued.request);
      const blocked =
        (conflict !== undefined && (seen.has(conflict) || this.busy.has(conflict))) ||
        (this.shapesInFlight.get(queued.shape) ?? 0) >= maxInFlightPerShape;
      if (conflict !== undefined) seen.add(conflict);
      const itsWeight = weightOf ? weightOf(queued.request) : 1;
      const fits =
        !blocked && (batch.length === 0 || (queued.shape === shape && weight + itsWeight <= maxWeight));
      if (!fits) {
        rest.push(queued);
        continue;
      }
      if (batch.length === 0) shape = queued.shape;
      batch.push(queued);
      weight += itsWeight;
    }
    this.queue = rest;
    return batch;
  }

  private start(batch: readonly Queued<Request, Answer>[]): void {
    const conflicts = this.options.conflictOf
      ? batch.map((queued) => this.options.conflictOf!(queued.request))
      : [];
    const shape = batch[0]!.shape;
    for (const key of conflicts) this.busy.set(key, (this.busy.get(key) ?? 0) + 1);
    this.shapesInFlight.set(shape, (this.shapesInFlight.get(shape) ?? 0) + 1);
    this.inFlight++;
    const settle = (): void => {
      for (const key of conflicts) release(this.busy, key);
      release(this.shapesInFlight, shape);
      this.inFlight--;
      this.flush();
    };
    let statement: Promise<readonly Answer[]>;
    try {
      statement = this.options.run(batch.map((queued) => queued.request));
    } catch (error) {
      statement = Promise.reject(error);
    }
    statement.then(
      (answers) => {
        if (answers.length !== batch.length) {
          const error = new Error(`A batch of ${batch.length} requests got ${answers.length} answers.`);
          for (const queued of batch) queued.reject(error);
        } else {
          batch.forEach((queued, i) => queued.resolve(answers[i] as Answer));
        }
        settle();
      },
      (error: unknown) => {
        if (batch.length > 1 && this.options.mayBeOneRequestsFault?.(error)) {
          void this.runAlone(batch).then(settle);
          return;
        }
        for (const queued of batch) queued.reject(error);
        settle();
      },
    );
  }

  /** Runs each request of a failed batch in a statement of its own, one after the other. */
  private async runAlone(batch: readonly Queued<Request, Answer>[]): Promise<void> {
    for (const queued of batch) {
      try {
        const [answer] = await this.options.run([queued.request]);
        queued.resolve(answer as Answer);
      } catch (error) {
        queued.reject(error);
      }
    }
  }
}

/** Takes one off the count of `key` in `counts`, forgetting the key at none. */
function release(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
}

/**
 * Whether a database error is the database refusing a value (SQLSTATE class 22, data exception, such as
 * a NUL character or an invalid Unicode escape; 23, integrity; 42, a value it cannot use), which one
 * request of a shared statement can cause, rather than a failure of the connection or the server.
 */
export function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
}
