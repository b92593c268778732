import type { ExternalTask } from '../../../lib/model/index.js';
import type { ExternalTaskChange } from '../../../lib/repository/index.js';

/** A lock as the feed tells it: who holds the task, and until when by the database's clock. */
interface Hold {
  readonly workerId: string;
  expiresAt: number;
}

/**
 * What the feed says about locks and outcomes, checked change by change in feed (commit) order: each
 * new holder's lock must start at or after the previous holder's current expiry. A lock's start is its
 * expiry less the lock duration (`lockMs`, the one every fetch and extension asks for), since the
 * database's clock stamps both.
 */
export class LockLedger {
  readonly holds = new Map<string, Hold>();
  readonly outcomes = new Map<string, ExternalTaskChange[]>();
  readonly violations: string[] = [];
  locks = 0;
  takeovers = 0;
  extensions = 0;

  constructor(private readonly lockMs: number) {}

  apply(change: ExternalTaskChange): void {
    const { task } = change;
    const hold = this.holds.get(task.id);
    switch (change.type) {
      case 'locked': {
        this.locks++;
        const expiresAt = expiry(task);
        const start = expiresAt - this.lockMs;
        if (hold && start < hold.expiresAt) {
          this.violations.push(
            `${task.id}: ${task.workerId} locked it from ${start} while ${hold.workerId} held it until ` +
              `${hold.expiresAt} (position ${change.position})`,
          );
        }
        this.holds.set(task.id, { workerId: task.workerId!, expiresAt });
        return;
      }
      case 'extended':
        this.extensions++;
        if (hold?.workerId !== task.workerId) {
          this.violations.push(`${task.id}: extended by ${task.workerId}, held by ${hold?.workerId}`);
        }
        if (hold) hold.expiresAt = expiry(task);
        return;
      case 'lockExpired':
        this.takeovers++;
        if (hold?.workerId !== task.workerId || hold?.expiresAt !== expiry(task)) {
          this.violations.push(
            `${task.id}: lockExpired names ${task.workerId} until ${expiry(task)}, the feed says ` +
              `${hold?.workerId} until ${hold?.expiresAt} (position ${change.position})`,
          );
        }
        return;
      case 'finished':
      case 'failed':
      case 'cancelled': {
        if (hold?.workerId !== task.workerId) {
          this.violations.push(
            `${task.id}: ${change.type} by ${task.workerId}, last locked by ${hold?.workerId}`,
          );
        }
        const list = this.outcomes.get(task.id) ?? [];
        list.push(change);
        this.outcomes.set(task.id, list);
        return;
      }
      case 'created':
        return;
      default:
        this.violations.push(`${task.id}: unexpected ${change.type} at ${change.position}`);
    }
  }
}

function expiry(task: ExternalTask): number {
  if (!task.lockExpirationTime) throw new Error(`task ${task.id} has no lock expiration time`);
  return task.lockExpirationTime.getTime();
}
