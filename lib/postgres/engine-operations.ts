import type {
  CancelSelector,
  EngineWriteResult,
  ExternalTaskPage,
  ExternalTaskQuery,
  FinalTaskSelector,
  TaskCountFilter,
  TopicTaskCounts,
} from '../repository/index.js';
import {
  validateCancelSelector,
  validateCountFilter,
  validateFinalTaskSelector,
  validateQuery,
  validateSetPriority,
} from '../repository/repository-arguments.js';
import { requireString } from '../validation/index.js';
import type { Driver } from './driver/driver.js';
import type { ChangeRecorder } from './feed/local-offers.js';
import * as sql from './sql/index.js';
import { isTaskId } from './task-id.js';
import { toTask, type TaskRecord } from './task-record.js';

/**
 * The engine's side of the PostgreSQL store that workers' statements never share: cancelling, the
 * operator's writes on one task, deleting final tasks, queries and counts. Each is one statement; a
 * refused write is explained by a read after it (which decides nothing).
 */
export class PostgresEngineOperations {
  constructor(
    /** Runs the statements that record changes (the writes), offering what they recorded to the feed. */
    private readonly recorder: ChangeRecorder,
    /** Runs the reads: a task, and the queries and counts with plans made for their values. */
    private readonly database: Pick<Driver, 'query' | 'queryPlannedForValues'>,
    private readonly names: sql.SqlNames,
    private readonly statements: sql.StoreStatements,
    /** The time the statements use: the injected clock's, or null for the database's own. */
    private readonly now: () => number | null,
  ) {}

  async cancel(selector: CancelSelector): Promise<number> {
    const { field, value } = validateCancelSelector(selector);
    if (field === 'externalTaskId' && !isTaskId(value)) return 0;
    const rows = await this.recorder.record<{ count: number } & sql.Recording>(
      this.statements.cancel[field],
      [this.now(), value],
    );
    return rows[0]?.count ?? 0;
  }

  /** A pending task nobody holds is left as it is: `ok` with its record. */
  forceUnlock(externalTaskId: string): Promise<EngineWriteResult> {
    requireString('externalTaskId', externalTaskId);
    return this.writeTask(this.statements.engine.forceUnlock, externalTaskId, [], 'unchanged');
  }

  /** A task that was pending again when the refusal was read (an incident revived meanwhile): written again. */
  setPriority(externalTaskId: string, priority: number): Promise<EngineWriteResult> {
    validateSetPriority(externalTaskId, priority);
    return this.writeTask(this.statements.engine.setPriority, externalTaskId, [priority], 'again');
  }

  async deleteFinalTasks(selector: FinalTaskSelector): Promise<number> {
    const { processInstanceId } = validateFinalTaskSelector(selector);
    const [row] = await this.database.query<{ count: number }>(this.statements.engine.deleteFinal, [
      processInstanceId,
    ]);
    return row?.count ?? 0;
  }

  async query(filter: ExternalTaskQuery): Promise<ExternalTaskPage> {
    const { where, params, ...page } = sql.queryFilter(this.names, validateQuery(filter), this.now());
    const text = sql.queryTasks(this.names, where, page.limit, page.offset);
    const [found] = await this.database.queryPlannedForValues<{ total: number; tasks: TaskRecord[] }>(
      text,
      params,
    );
    return { tasks: (found?.tasks ?? []).map(toTask), total: found?.total ?? 0 };
  }

  async countByTopic(filter?: TaskCountFilter | readonly string[]): Promise<TopicTaskCounts[]> {
    const { topics, tenantId } = validateCountFilter(filter);
    return this.database.queryPlannedForValues<TopicTaskCounts>(this.statements.count, [
      this.now(),
      topics ?? null,
      tenantId ?? null,
    ]);
  }

  /**
   * One of the engine's writes on one task, and if it was refused, why: no task, or a final one (`gone`);
   * a pending one is `unchanged` (answered `ok` as it is: nobody holds it) or written `again` for the
   * write's kind. A pending task that a worker took between the refusal and its read is written again.
   */
  private async writeTask(
    statement: string,
    externalTaskId: string,
    argument: readonly unknown[],
    whenPending: 'unchanged' | 'again',
  ): Promise<EngineWriteResult> {
    if (!isTaskId(externalTaskId)) return { status: 'not-found' };
    for (;;) {
      const rows = await this.recorder.record<{ record: TaskRecord } & sql.Recording>(statement, [
        this.now(),
        externalTaskId,
        ...argument,
      ]);
      const [written] = rows;
      if (written) return { status: 'ok', task: toTask(written.record) };
      const [current] = await this.database.query<{ record: TaskRecord }>(this.statements.get, [
        externalTaskId,
      ]);
      if (!current) return { status: 'not-found' };
      const task = toTask(current.record);
      if (task.state !== 'pending') return { status: 'gone', task };
      if (whenPending === 'unchanged' && task.workerId === undefined) return { status: 'ok', task };
    }
  }
}
