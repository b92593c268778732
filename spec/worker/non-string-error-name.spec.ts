import { expect } from 'chai';
import type { ExternalTask } from '../../lib/index.js';
import type { ExternalTaskHandler } from '../../lib/worker/index.js';
import { newTask, recordEvents, settle, useWorkerTestbed } from './worker-fixtures.js';

describe('worker: a handler error whose name is not a string', () => {
  const bed = useWorkerTestbed();

  async function runOne(handler: ExternalTaskHandler) {
    const worker = bed.startWorker({ handler });
    const errors = recordEvents(worker, 'worker:error');
    const { id } = await bed.repository.create(newTask());
    const task: ExternalTask = await settle(bed.clock, bed.api.waitForOutcome(id));
    return { task, errors };
  }

  it('reports the failure as a service error with its message', async () => {
    const { task } = await runOne(() => {
      const error = new Error('the payment service is down');
      (error as unknown as { name: unknown }).name = 503;
      throw error;
    });
    expect(task.state).to.equal('failed');
    expect((task.error as unknown as { errorMessage: string }).errorMessage).to.equal(
      'the payment service is down',
    );
  });
});
