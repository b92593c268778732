/** What a demo worker process tells the engine process over IPC. */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly worker: string }
  | { readonly type: 'summary'; readonly worker: string; readonly invoices: readonly number[] };

/** What the engine process tells a worker process: stop once the running invoices are done. */
export type EngineMessage = { readonly type: 'stop' };

/** The invoice a task carries. */
export interface Invoice {
  readonly invoice: number;
  readonly customer: string;
  readonly amount: number;
}

/** The database every process of the demo shares. */
export const databaseUrl = process.env.EXTERNAL_TASK_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** When the engine started: every process of the demo counts its times from there. */
export const startedAt = Number(process.env.POSTGRES_DEMO_STARTED_AT ?? Date.now());

/** Prints one line: the time since the engine started, who, what. */
export function log(who: string, message: string): void {
  console.log(`${String(Date.now() - startedAt).padStart(5)} ms  ${who.padEnd(8)} ${message}`);
}
