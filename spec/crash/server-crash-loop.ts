import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { ExternalTask } from '../../lib/model/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import type { ChangeFeed, ExternalTaskChange } from '../../lib/repository/index.js';
import { terminateBackends } from '../postgres/faults/backends.js';
import { ChildScript } from '../postgres/processes/child-script.js';
import { quietLogger } from '../postgres/support.js';
import { workerIdOf, type HandlerLine, type OutcomeLine, type ReadyMessage } from './crash-records.js';
import { readLines } from './journal.js';
import { PostgresCluster } from './postgres-cluster.js';
import { checkRound, type RoundFigures } from './server-checks.js';

/** The sizes of a crash loop on PostgreSQL. */
export interface ServerCrashOptions {
  readonly rounds: number;
  readonly tasksPerRound: number;
  readonly processes: number;
  readonly workersPerProcess: number;
  /** Handlers each worker runs at once. */
  readonly concurrency: number;
  readonly lockMs: number;
  /** The chance of each kind of fault in each round (1: every kind, every round). */
  readonly faultChance: number;
  /** The port of the test's own cluster. @default a free one */
  readonly port?: number | undefined;
  /** Where progress lines go. */
  readonly print: (line: string) => void;
}

/** The faults the loop brings, each at a random moment of a round. */
export type FaultKind = 'kill-worker' | 'kill-engine' | 'terminate-backends' | 'restart-server';
const faultKinds: readonly FaultKind[] = [
  'kill-worker',
  'kill-engine',
  'terminate-backends',
  'restart-server',
];

/** What a crash loop came to. */
export interface ServerCrashResult {
  readonly roundsSurvived: number;
  /** Empty when every round survived; else what the failing round broke. */
  readonly violations: readonly string[];
  /** How many faults of each kind (and stop mode, for restarts) were brought. */
  readonly faults: Readonly<Record<string, number>>;
  /** The checks' figures after the last round checked (cumulative over the run). */
  readonly figures: RoundFigures | undefined;
  readonly tasks: number;
  readonly seconds: number;
}

const topic = 'crash';
const schema = 'et_crash';
const worker = 'spec/crash/processes/crash-worker.ts';
const engine = 'spec/crash/processes/crash-engine.ts';

const between = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * The crash loop on PostgreSQL: a cluster of its own; worker processes of `ExternalTaskWorker`s and an
 * engine process consuming outcomes; rounds of tasks during which worker and engine processes are
 * SIGKILLed, backends terminated and the server restarted (cleanly or as a crash) at random moments,
 * each round checked (`checkRound`) once everything settled. Stops at the first round that breaks an
 * invariant. Everything it started is stopped and removed before it answers.
 */
export async function runServerCrashLoop(options: ServerCrashOptions): Promise<ServerCrashResult> {
  const startedAt = Date.now();
  const cluster = await PostgresCluster.create(options.port);
  const journals = mkdtempSync(join(tmpdir(), 'et-crash-journals-'));
  const loop = new CrashLoop(cluster, journals, options);
  try {
    return { ...(await loop.run()), seconds: (Date.now() - startedAt) / 1000 };
  } finally {
    await loop.close();
    await cluster.destroy();
    rmSync(journals, { recursive: true, force: true });
  }
}

/** The processes of the loop, the test's own store and feed, and what the faults and creates left. */
class CrashLoop {
  private readonly repository: PostgresExternalTaskRepository;
  private feed: ChangeFeed | undefined;
  private readonly changes: ExternalTaskChange[] = [];
  private readonly feedHalts: string[] = [];
  private readonly workers: ChildScript<ReadyMessage>[] = [];
  private readonly lives: number[] = [];
  private engine: ChildScript<ReadyMessage> | undefined;
  private engineLife = 0;
  private readonly killedLives = new Set<string>();
  /** The handler logs of the killed lives (file names). */
  private readonly killedLogs = new Set<string>();
  private readonly created = new Map<string, string>();
  private readonly faults: Record<string, number> = {};

  constructor(
    private readonly cluster: PostgresCluster,
    private readonly journals: string,
    private readonly options: ServerCrashOptions,
  ) {
    this.repository = new PostgresExternalTaskRepository(
      { connectionString: cluster.url },
      {
        schema,
        logger: quietLogger(),
        applicationName: 'et-crash-driver',
        safetyRecheckMs: 500,
        poolSize: 4,
      },
    );
  }

  async run(): Promise<Omit<ServerCrashResult, 'seconds'>> {
    const { options } = this;
    await this.repository.migrate();
    this.feed = await this.repository.subscribe({
      after: 0,
      onChange: (change) => void this.changes.push(change),
      onHalt: (error) => void this.feedHalts.push(String(error)),
    });
    await Promise.all([
      ...Array.from({ length: options.processes }, (_, p) => this.startWorker(p)),
      this.startEngine(),
    ]);
    let figures: RoundFigures | undefined;
    for (let round = 1; round <= options.rounds; round++) {
      const roundStart = Date.now();
      const [, said] = await Promise.all([this.createRound(round), this.bringFaults(roundStart)]);
      const violations = await this.settle();
      const checked = violations.length > 0 ? undefined : await this.check();
      if (checked) figures = checked.figures;
      const allViolations = [...violations, ...(checked?.violations ?? []), ...this.feedHalts];
      options.print(
        `round ${round}: ${this.created.size} tasks in all; ${said.join(', ')}; ` +
          `${figures?.comebacks ?? 0} comebacks, ${figures?.takeovers ?? 0} takeovers in all; ` +
          `${((Date.now() - roundStart) / 1000).toFixed(1)} s` +
          (allViolations.length > 0 ? ' — FAILED' : ''),
      );
      if (allViolations.length > 0) {
        return {
          roundsSurvived: round - 1,
          violations: allViolations,
          faults: this.faults,
          figures,
          tasks: this.created.size,
        };
      }
    }
    return {
      roundsSurvived: options.rounds,
      violations: [],
      faults: this.faults,
      figures,
      tasks: this.created.size,
    };
  }

  /** Kills every process (nothing may outlive the run) and closes the test's store. Never throws. */
  async close(): Promise<void> {
    await Promise.all([...this.workers, ...(this.engine ? [this.engine] : [])].map((child) => child.kill()));
    await this.feed?.close().catch(() => undefined);
    await this.repository.close().catch(() => undefined);
  }

  /**
   * Creates the round's tasks in batches over about 3 s, each retried (same idempotency keys) until
   * acknowledged.
   */
  private async createRound(round: number): Promise<string> {
    const batch = Math.max(1, Math.round(this.options.tasksPerRound / 15));
    for (let first = 0; first < this.options.tasksPerRound; first += batch) {
      const tasks = Array.from({ length: Math.min(batch, this.options.tasksPerRound - first) }, (_, i) => {
        const key = `r${round}-${first + i}`;
        return {
          topic,
          idempotencyKey: key,
          correlationId: key,
          processInstanceId: `pi-${key}`,
          flowNodeInstanceId: `fni-${key}`,
        };
      });
      for (;;) {
        try {
          const answered = await this.repository.createMany(tasks);
          for (const task of answered) this.created.set(task.id, task.idempotencyKey!);
          break;
        } catch {
          await delay(200); // the server is away: the same keys again
        }
      }
      await delay(between(100, 300));
    }
    return `${this.options.tasksPerRound} created`;
  }

  /**
   * Brings each kind of fault with a chance of `faultChance` (at least one fault a round), at random moments
   * of the round's first 3 s while its tasks are created and worked on, one after the other (a fault that
   * comes while the one before still recovers waits for it); answers what each did.
   */
  private async bringFaults(roundStart: number): Promise<string[]> {
    const kinds = faultKinds.filter(() => Math.random() < this.options.faultChance);
    if (kinds.length === 0) kinds.push(pick(faultKinds));
    const planned = kinds
      .map((kind) => ({ kind, moment: between(0, 3000) }))
      .sort((a, b) => a.moment - b.moment);
    const said: string[] = [];
    for (const { kind, moment } of planned) {
      await delay(Math.max(0, roundStart + moment - Date.now()));
      said.push(await this.bring(kind));
    }
    return said;
  }

  /** Brings one fault; answers what it did. */
  private async bring(kind: FaultKind): Promise<string> {
    switch (kind) {
      case 'kill-worker': {
        const p = this.busyProcess();
        this.killedLives.add(`p${p}.l${this.lives[p]}`);
        this.killedLogs.add(basename(this.handlerLog(p, this.lives[p]!)));
        await this.workers[p]!.kill();
        this.count(kind);
        await delay(between(0, 1500));
        await this.startWorker(p);
        return `killed worker process ${p}`;
      }
      case 'kill-engine':
        await this.engine!.kill();
        this.count(kind);
        await delay(between(0, 1500));
        await this.startEngine();
        return 'killed the engine';
      case 'terminate-backends': {
        const names = [
          ...Array.from({ length: this.options.processes }, (_, p) => `et-crash-p${p}`),
          'et-crash-engine',
          'et-crash-driver',
        ];
        const chosen = Math.random() < 0.3 ? names : [pick(names)];
        const ended = await this.terminate(chosen);
        if (ended === undefined) return 'terminate: the server was away';
        this.count(kind);
        return `terminated ${ended} backends of ${chosen.length === 1 ? chosen[0] : 'every process'}`;
      }
      case 'restart-server': {
        const mode = pick(['fast', 'immediate'] as const);
        await this.cluster.stop(mode);
        this.count(`restart-server (${mode})`);
        const down = between(0, 1000);
        await delay(down);
        await this.cluster.start();
        return `restarted the server (${mode}, down ${down} ms)`;
      }
    }
  }

  /**
   * A worker process with handlers running (by its handler log), so that the kill leaves locked tasks
   * behind; any process when none has.
   */
  private busyProcess(): number {
    const busy = this.workers
      .map((_, p) => p)
      .filter((p) => {
        const lines = readLines<HandlerLine>(this.handlerLog(p, this.lives[p]!), true);
        const ended = new Set(
          lines.filter((line) => line.e === 'end').map((line) => `${line.task}|${line.lock}`),
        );
        return lines.some((line) => line.e === 'start' && !ended.has(`${line.task}|${line.lock}`));
      });
    return busy.length > 0 ? pick(busy) : Math.floor(Math.random() * this.options.processes);
  }

  private handlerLog(p: number, life: number): string {
    return join(this.journals, `handlers-p${p}-l${life}.jsonl`);
  }

  private count(what: string): void {
    this.faults[what] = (this.faults[what] ?? 0) + 1;
  }

  /** `pg_terminate_backend` of every backend of the named applications; `undefined` if the server is away. */
  private async terminate(applicationNames: readonly string[]): Promise<number | undefined> {
    const admin = new pg.Pool({ connectionString: this.cluster.url, max: 1, connectionTimeoutMillis: 2000 });
    admin.on('error', () => undefined);
    try {
      let ended = 0;
      await admin.query('SELECT 1');
      for (const name of applicationNames) ended += await terminateBackends(admin, name, 'all');
      return ended;
    } catch {
      return undefined;
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  private async startWorker(p: number): Promise<void> {
    const life = (this.lives[p] = this.lives[p] === undefined ? 0 : this.lives[p] + 1);
    const { options } = this;
    const child = new ChildScript<ReadyMessage>(`crash worker ${workerIdOf(p, life, 0)}`, worker, [
      this.cluster.url,
      schema,
      topic,
      String(p),
      String(life),
      String(options.workersPerProcess),
      String(options.concurrency),
      String(options.lockMs),
      this.handlerLog(p, life),
    ]);
    this.workers[p] = child;
    await child.message('ready', 60_000);
  }

  private async startEngine(): Promise<void> {
    const life = this.engine ? ++this.engineLife : 0;
    this.engine = new ChildScript<ReadyMessage>(`crash engine life ${life}`, engine, [
      this.cluster.url,
      schema,
      join(this.journals, 'outcomes.jsonl'),
      String(life),
    ]);
    await this.engine.message('ready', 60_000);
  }

  /**
   * Waits until every task created has its outcome, the test's feed has every change, and the engine
   * has handled every outcome; answers what did not happen within the bound (nothing when all did).
   */
  private async settle(): Promise<string[]> {
    const deadline = Date.now() + 120_000;
    let state = 'nothing asked yet';
    for (; Date.now() < deadline; await delay(200)) {
      try {
        const [counts] = await this.repository.countByTopic([topic]);
        const outcomes = (counts?.finished ?? 0) + (counts?.failed ?? 0) + (counts?.cancelled ?? 0);
        const end = await this.repository.currentPosition();
        const handled = readLines<OutcomeLine>(join(this.journals, 'outcomes.jsonl'), true).length;
        state = `${outcomes} outcomes of ${this.created.size} tasks, feed at ${this.feed!.position} of ${end}, engine handled ${handled}`;
        if (outcomes === this.created.size && this.feed!.position >= end && handled >= outcomes) return [];
      } catch (error) {
        state = `the store answered ${String(error)}`;
      }
    }
    return [`the round did not settle within 120 s: ${state}`];
  }

  private async check(): Promise<ReturnType<typeof checkRound>> {
    const stored: ExternalTask[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await this.repository.query({ topic, limit: 1000, offset });
      stored.push(...page.tasks);
      if (page.tasks.length < 1000) break;
    }
    const handlerLines = readdirSync(this.journals)
      .filter((name) => name.startsWith('handlers-'))
      // The logs of the processes alive are still written to; those of killed ones are whole.
      .flatMap((name) => readLines<HandlerLine>(join(this.journals, name), !this.killedLogs.has(name)));
    return checkRound({
      lockMs: this.options.lockMs,
      created: this.created,
      changes: this.changes,
      end: await this.repository.currentPosition(),
      stored,
      handlerLines,
      outcomeLines: readLines<OutcomeLine>(join(this.journals, 'outcomes.jsonl'), true),
      killedLives: this.killedLives,
    });
  }
}
