import { expect } from 'chai';
import { BadRequestError, limits, type ExternalTask } from '../../lib/index.js';
import { identity, newTask, rejectionOf, useApiTestbed } from '../support/fixtures.js';

describe('arguments at the edges', () => {
  const bed = useApiTestbed();

  async function held(): Promise<ExternalTask> {
    await bed.repository.create(newTask());
    const [task] = await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 60_000);
    return task!;
  }

  it('a BPMN error may come with an empty message', async () => {
    const task = await held();
    await bed.api.handleBpmnError(identity, 'w1', task.id, 'E_EMPTY', '');
    expect((await bed.repository.getById(task.id))?.error).to.deep.equal({
      type: 'bpmn',
      errorCode: 'E_EMPTY',
      errorMessage: '',
    });
  });

  it('refuses a retryTimeout without retries (it would be ignored), and leaves the task held', async () => {
    const task = await held();
    for (const options of [{ retryTimeout: -1 }, { retryTimeout: 5000 }]) {
      const error = await rejectionOf(
        bed.api.handleServiceError(identity, 'w1', task.id, 'boom', undefined, options),
      );
      expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'options.retries' });
    }
    expect(await bed.repository.getById(task.id)).to.include({ state: 'pending', workerId: 'w1' });
  });

  it('refuses null for longPollingTimeout in the options form', async () => {
    const error = await rejectionOf(
      bed.api.fetchAndLock(identity, {
        workerId: 'w1',
        topics: [{ topicName: 'invoice', lockDuration: 1000 }],
        maxTasks: 1,
        longPollingTimeout: null as unknown as number,
      }),
    );
    expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'longPollingTimeout' });
  });

  it('waitForOutcome takes null options as none, and refuses a signal that is not an AbortSignal', async () => {
    const task = await held();
    const waiting = bed.api.waitForOutcome(task.id, null as unknown as undefined);
    await bed.api.finishExternalTask(identity, 'w1', task.id, 1);
    expect((await waiting).result).to.equal(1);
    const error = await rejectionOf(bed.api.waitForOutcome(task.id, { signal: {} as AbortSignal }));
    expect(error).to.be.instanceOf(BadRequestError).and.include({ argument: 'signal' });
  });

  describe('a value whose JSON would be longer than the longest string', () => {
    // 520 references to one 1 MiB string: little memory, but more JSON than a string can hold.
    const tooLong = (): string[] => new Array<string>(520).fill('x'.repeat(limits.maxJsonBytes));

    it('create refuses it as a payload with a 400 naming the argument', async () => {
      const error = await rejectionOf(bed.repository.create(newTask('invoice', { payload: tooLong() })));
      expect(error)
        .to.be.instanceOf(BadRequestError)
        .and.include({ code: 'BAD_REQUEST', argument: 'payload' });
    });

    it('finishExternalTask refuses it as a result with a 400 naming the argument, and leaves the task held', async () => {
      const task = await held();
      const error = await rejectionOf(bed.api.finishExternalTask(identity, 'w1', task.id, tooLong()));
      expect(error)
        .to.be.instanceOf(BadRequestError)
        .and.include({ code: 'BAD_REQUEST', argument: 'result' });
      expect(await bed.repository.getById(task.id)).to.include({ state: 'pending', workerId: 'w1' });
    });
  });
});
