import {
  BadRequestError,
  ExternalTaskApi,
  ExternalTaskError,
  InMemoryExternalTaskRepository,
  InternalError,
  tokenAccessPolicy,
  UnauthorizedError,
  type ExternalTask,
  type ExternalTaskService,
} from '../../lib/index.js';
import { ManualClock } from '../../lib/testing/index.js';
import { newTask } from '../support/fixtures.js';
import { hostileNames, hostileValue, type HostileName } from './hostile-values.js';
import { kinds, type KindName } from './valid-values.js';
import { recordCases } from './case-report.js';

/** The worker operations as both the api and its HTTP client offer them: the service and the paper's alias. */
export type WorkerOperations = ExternalTaskService & Pick<ExternalTaskApi, 'handleSystemError'>;

/** A fresh store and api with one held, one available and one finished task. */
export interface Bed {
  readonly repository: InMemoryExternalTaskRepository;
  readonly api: ExternalTaskApi;
  /** Where the worker operations are called: the api itself, or a client of it (see {@link Transport}). */
  readonly service: WorkerOperations;
  readonly clock: ManualClock;
  /** Held by worker `w1`. */
  readonly held: ExternalTask;
  readonly available: ExternalTask;
  /** Finished, of process instance `pi-final`. */
  readonly finished: ExternalTask;
}

export const identity = { token: 'bad-input' };
const silentLogger = { error: () => undefined, warn: () => undefined };

/** How a bed's worker operations reach its api. */
export interface Transport {
  /** A service calling `api`, counting the requests it sends (none for the api itself). */
  connect(api: ExternalTaskApi): Connection;
}

/** One bed's way to its api. */
export interface Connection {
  readonly service: WorkerOperations;
  /** The requests sent so far. */
  requests(): number;
}

/** The worker operations called on the api itself. */
const inProcess: Transport = { connect: (api) => ({ service: api, requests: () => 0 }) };

async function openBed(transport: Transport): Promise<{ bed: Bed; connection: Connection }> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const repository = new InMemoryExternalTaskRepository({ clock, logger: silentLogger });
  // The token policy as the api's own: a handler made of this api has a token check (and may be made).
  const accessPolicy = { ...tokenAccessPolicy };
  const api = new ExternalTaskApi({ repository, clock, logger: silentLogger, accessPolicy });
  await repository.create(newTask('invoice'));
  const [held] = await api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
  const available = await repository.create(newTask('invoice'));
  await repository.create(newTask('final', { processInstanceId: 'pi-final' }));
  const [final] = await api.fetchAndLockExternalTasks(identity, 'w1', 'final', 1, 0, 60_000);
  await api.finishExternalTask(identity, 'w1', final!.id, { done: true });
  const finished = (await repository.getById(final!.id))!;
  const connection = transport.connect(api);
  const bed = { repository, api, service: connection.service, clock, held: held!, available, finished };
  return { bed, connection };
}

/** Every task (every state) and the change feed's position, as comparable text. */
async function snapshot(repository: InMemoryExternalTaskRepository): Promise<string> {
  const { tasks } = await repository.query({ limit: 1000 });
  return JSON.stringify({ tasks, position: await repository.currentPosition() });
}

/** How a refusal must look. */
export type Refusal = 'bad-request' | 'unauthorized' | 'option-error';

/** One parameter of one operation, tried with every hostile value. */
export interface ParameterCase {
  readonly surface: string;
  /** E.g. `extendLock(additionalDuration)`. */
  readonly label: string;
  readonly kind: KindName;
  /** The argument names a refusal may carry (a nested path below one of them also names it). */
  readonly names: readonly string[];
  /** @default 'bad-request' */
  readonly refusal?: Refusal;
  /** Calls the operation with `value` in place of the parameter. */
  readonly call: (bed: Bed, value: unknown) => unknown;
}

/** A case whose answer is not what the table says. */
export interface Defect {
  readonly label: string;
  readonly value: HostileName;
  readonly problem: string;
}

const hangBound = 10_000;

function describeError(error: unknown): string {
  if (error instanceof ExternalTaskError)
    return `${error.constructor.name} ${error.status} argument=${String((error as BadRequestError).argument)}: ${error.message.slice(0, 160)}`;
  if (error instanceof Error) return `${error.constructor.name}: ${error.message.slice(0, 160)}`;
  return String(error);
}

function names(error: unknown, allowed: readonly string[], refusal: Refusal): boolean {
  if (refusal === 'unauthorized') return error instanceof UnauthorizedError;
  if (refusal === 'option-error') {
    if (!(error instanceof TypeError || error instanceof RangeError || error instanceof BadRequestError))
      return false;
    return allowed.some((name) => error.message.includes(name));
  }
  if (!(error instanceof BadRequestError)) return false;
  return allowed.some(
    (name) =>
      error.argument === name ||
      error.argument?.startsWith(`${name}.`) ||
      error.argument?.startsWith(`${name}[`),
  );
}

/** Whether `error` is an answer a valid value may get: a typed refusal of the state (404, 410, 423, …). */
function acceptable(error: unknown): boolean {
  return (
    error instanceof ExternalTaskError &&
    !(error instanceof BadRequestError) &&
    !(error instanceof InternalError) &&
    !(error instanceof UnauthorizedError)
  );
}

async function settle(call: () => unknown): Promise<{ ok: true } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${hangBound} ms`)), hangBound);
  });
  try {
    await Promise.race([Promise.resolve().then(call), hang]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `parameter` with every hostile value, the worker operations reached through `transport`; answers
 * the defects found. A value refused as a bad request must be refused before any request is sent.
 */
export async function tryParameter(
  parameter: ParameterCase,
  transport: Transport = inProcess,
): Promise<Defect[]> {
  const kind = kinds[parameter.kind];
  const refusal = parameter.refusal ?? 'bad-request';
  const defects: Defect[] = [];
  const timings: number[] = [];
  for (const name of hostileNames) {
    const { bed, connection } = await openBed(transport);
    try {
      const value = hostileValue(name, 'pastLimit' in kind ? kind.pastLimit : undefined);
      const valid = (kind.valid as readonly HostileName[]).includes(name);
      const tolerated = 'tolerated' in kind && (kind.tolerated as readonly HostileName[]).includes(name);
      const before = await snapshot(bed.repository);
      const started = performance.now();
      const answer = await settle(() => parameter.call(bed, value));
      timings.push(performance.now() - started);
      const problem = tolerated && answer.ok ? undefined : judge(answer, valid, parameter.names, refusal);
      if (problem) defects.push({ label: parameter.label, value: name, problem });
      else if (!answer.ok && !valid && refusal === 'bad-request' && connection.requests() > 0)
        defects.push({ label: parameter.label, value: name, problem: 'refused only after a request' });
      else if (!answer.ok && !valid && (await snapshot(bed.repository)) !== before)
        defects.push({ label: parameter.label, value: name, problem: 'the store changed after a refusal' });
    } finally {
      await bed.api.close();
    }
  }
  recordCases(parameter.surface, timings);
  return defects;
}

function judge(
  answer: { ok: true } | { ok: false; error: unknown },
  valid: boolean,
  allowed: readonly string[],
  refusal: Refusal,
): string | undefined {
  if (valid) {
    if (answer.ok || acceptable(answer.error)) return undefined;
    return `a valid value was refused: ${describeError(answer.error)}`;
  }
  if (answer.ok) return 'accepted, but the documentation refuses it';
  if (names(answer.error, allowed, refusal)) return undefined;
  return `refused wrongly (expected ${refusal} naming ${allowed.join(' or ')}): ${describeError(answer.error)}`;
}

/** Formats the defects for an assertion message. */
export function listDefects(defects: readonly Defect[]): string {
  return defects.map((d) => `${d.label} ← ${d.value}: ${d.problem}`).join('\n');
}
