import { expect } from 'chai';
import sinon from 'sinon';
import { BadRequestError, limits, type ExternalTask } from '../../lib/index.js';
import { BpmnError, type ExternalTaskHandler, type ExternalTaskWorker } from '../../lib/worker/index.js';
import {
  identity,
  newTask,
  recordEvents,
  settle,
  stubService,
  taskRecord,
  useWorkerTestbed,
} from './worker-fixtures.js';

describe('worker: handler outcomes', () => {
  const bed = useWorkerTestbed();

  function startWorker(handler: ExternalTaskHandler): ExternalTaskWorker {
    return bed.startWorker({ handler });
  }

  /** Creates one task, lets the worker handle it, and answers the stored record. */
  async function runOne(handler: ExternalTaskHandler, payload?: unknown): Promise<ExternalTask> {
    startWorker(handler);
    const { id } = await bed.repository.create(newTask('send-invoice', payload));
    const outcome = await settle(bed.clock, bed.api.waitForOutcome(id));
    return outcome;
  }

  for (const [label, value] of [
    ['undefined', undefined],
    ['0', 0],
    ["''", ''],
    ['false', false],
    ['null', null],
    ['an object', { invoiceId: 'inv-1', lines: [1, 2] }],
  ] as const) {
    it(`finishes the task with a handler result of ${label}`, async () => {
      const task = await runOne(() => value);
      expect(task.state).to.equal('finished');
      expect(task.result).to.deep.equal(value);
    });
  }

  it('finishes with what an async handler resolves to, and hands it the task with its payload', async () => {
    const handler = sinon.spy(async (task: ExternalTask) => {
      await Promise.resolve();
      return { echoed: task.payload };
    });
    const task = await runOne(handler, { amount: 42 });
    expect(task.result).to.deep.equal({ echoed: { amount: 42 } });
    expect(handler.firstCall.args[0].id).to.equal(task.id);
  });

  it('emits worker:task:started, then worker:task:finished with the result once it is reported', async () => {
    const worker = startWorker(() => 7);
    const seen: string[] = [];
    worker.events.on('worker:task:started', ({ task }) => seen.push(`started ${task.id}`));
    worker.events.on('worker:task:finished', ({ task, result }) =>
      seen.push(`completed ${task.id} ${String(result)}`),
    );
    const { id } = await bed.repository.create(newTask());
    await settle(bed.clock, bed.api.waitForOutcome(id));
    await bed.clock.tickAsync(0);
    expect(seen).to.deep.equal([`started ${id}`, `completed ${id} 7`]);
  });

  it('reports a thrown BpmnError with handleBpmnError (code and message)', async () => {
    const task = await runOne(() => {
      throw new BpmnError('CREDIT_REFUSED', 'score below 500');
    });
    expect(task.state).to.equal('failed');
    expect(task.error).to.deep.equal({
      type: 'bpmn',
      errorCode: 'CREDIT_REFUSED',
      errorMessage: 'score below 500',
    });
  });

  it('reports a BpmnError without a message with the code alone', async () => {
    const task = await runOne(() => Promise.reject(new BpmnError('NO_STOCK')));
    expect(task.error).to.deep.equal({ type: 'bpmn', errorCode: 'NO_STOCK' });
  });

  it('reports any other error with handleServiceError(message, { name, stack })', async () => {
    const task = await runOne(async () => {
      await Promise.resolve();
      throw new RangeError('amount out of range');
    });
    expect(task.state).to.equal('failed');
    expect(task.error).to.include({ type: 'service', errorMessage: 'amount out of range' });
    const details = (task.error as unknown as { errorDetails: { name: string; stack: string } }).errorDetails;
    expect(details.name).to.equal('RangeError');
    expect(details.stack).to.be.a('string').and.include('amount out of range');
  });

  it('reports a synchronous throw as a service error', async () => {
    const task = await runOne(() => {
      throw new Error('boom');
    });
    expect(task.error).to.include({ type: 'service', errorMessage: 'boom' });
  });

  it('reports a thrown non-Error value as a service error with its text and no details', async () => {
    const task = await runOne(() => {
      throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error
    });
    expect(task.error).to.deep.equal({ type: 'service', errorMessage: 'plain string' });
  });

  it('emits worker:task:failed with type bpmn or service and the thrown error', async () => {
    const thrown = [new BpmnError('B'), new Error('S')];
    const worker = startWorker((task) => {
      throw thrown[(task.payload as { i: number }).i]!;
    });
    const failed = recordEvents(worker, 'worker:task:failed');
    for (const i of [0, 1]) {
      const { id } = await bed.repository.create(newTask('send-invoice', { i }));
      await settle(bed.clock, bed.api.waitForOutcome(id));
    }
    await bed.clock.tickAsync(0);
    expect(failed).to.have.length(2);
    expect(failed[0]).to.include({ error: thrown[0], type: 'bpmn' });
    expect(failed[1]).to.include({ error: thrown[1], type: 'service' });
  });

  it('fails the task with a service error when the result is refused (not JSON)', async () => {
    const worker = startWorker(() => ({ when: () => 'not JSON' }));
    const errors = recordEvents(worker, 'worker:error');
    const { id } = await bed.repository.create(newTask());
    const task = await settle(bed.clock, bed.api.waitForOutcome(id));
    expect(task.state).to.equal('failed');
    expect(task.error).to.include({ type: 'service' });
    expect(errors[0]?.context).to.include({ type: 'report', operation: 'finishExternalTask' });
  });

  it('truncates a message longer than the API accepts instead of losing the report', async () => {
    const task = await runOne(() => {
      throw new Error('x'.repeat(20_000));
    });
    expect((task.error as { errorMessage: string }).errorMessage).to.have.length(10_000);
  });

  describe('a report too large to be accepted', () => {
    const huge = (): Error => new Error('x'.repeat(1_200_000));

    it('cuts the message and the details of a 1.2 MB error to the limits, and the task fails', async () => {
      const task = await runOne(() => {
        throw huge();
      });
      expect(task.state).to.equal('failed');
      const error = task.error as unknown as {
        errorMessage: string;
        errorDetails: { name: string; stack: string };
      };
      expect(error.errorMessage).to.have.length(limits.maxMessageLength);
      expect(error.errorDetails.name).to.equal('Error');
      expect(error.errorDetails.stack.length).to.be.at.most(limits.maxMessageLength);
    });

    it('with retries, the task is retried and ends as an incident instead of coming back forever', async () => {
      bed.startWorker({
        handler: () => {
          throw huge();
        },
        retry: { retries: 2, delay: 100, jitter: 0 },
      });
      const { id } = await bed.repository.create(newTask());
      const task = await settle(bed.clock, bed.api.waitForOutcome(id));
      expect(task).to.include({ state: 'failed', incident: true, retries: 0 });
    });

    /**
     * Lets a worker with a retry policy (3 retries, 100 ms) run `task`, handed out by `service`, with a
     * handler that throws `thrown`; answers the `worker:task:failed` and `worker:error` events.
     */
    async function failOn(
      service: ReturnType<typeof stubService>,
      task: ExternalTask,
      thrown: unknown = new Error('boom'),
    ): Promise<{
      failed: ReturnType<typeof recordEvents<'worker:task:failed'>>;
      errors: ReturnType<typeof recordEvents<'worker:error'>>;
    }> {
      service.fetchAndLock.onFirstCall().resolves([task]);
      const worker = bed.createWorker(
        {
          handler: () => {
            throw thrown;
          },
          retry: { retries: 3, delay: 100, jitter: 0 },
        },
        service,
      );
      const failed = recordEvents(worker, 'worker:task:failed');
      const errors = recordEvents(worker, 'worker:error');
      await worker.start();
      await bed.clock.tickAsync(0);
      return { failed, errors };
    }

    it('falls back to a short report without details when a service error is still refused (400)', async () => {
      const service = stubService();
      const refusal = new BadRequestError('errorDetails', 'too large for this service');
      service.handleServiceError.onFirstCall().rejects(refusal);
      const thrown = new Error('boom');
      const { failed, errors } = await failOn(service, taskRecord('a'), thrown);

      expect(service.handleServiceError.callCount).to.equal(2);
      const [, , id, message, details, options] = service.handleServiceError.secondCall.args;
      expect(id).to.equal('a');
      expect(message).to.be.a('string').and.have.length.within(1, 200);
      expect(details).to.equal(undefined);
      expect(options).to.deep.equal({ retries: 3, retryTimeout: 100 });
      expect(errors.map((event) => event.error)).to.deep.equal([refusal]);
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ error: thrown, type: 'service' });
    });

    it('sends the short report without retry options when they are what the service refuses', async () => {
      // A service that refuses retry options out of the API's range, as the API does, and a task whose own
      // retry budget is beyond that range (handed out by a foreign or faulty service): the first report,
      // and before the fix the short one too, asked for more retries than limits.maxRetries.
      const service = stubService();
      service.handleServiceError.callsFake((_identity, _workerId, _id, _message, _details, options) => {
        const inRange = (value: number | undefined, max: number): boolean =>
          value === undefined || (Number.isSafeInteger(value) && value >= 0 && value <= max);
        return inRange(options?.retries, limits.maxRetries) &&
          inRange(options?.retryTimeout, limits.maxDuration)
          ? Promise.resolve()
          : Promise.reject(new BadRequestError('options.retries', 'out of range'));
      });
      const thrown = new Error('boom');
      const task = { ...taskRecord('a'), retries: limits.maxRetries + 1 };
      const { failed, errors } = await failOn(service, task, thrown);

      expect(service.handleServiceError.callCount).to.equal(2);
      expect(service.handleServiceError.firstCall.args[5]).to.deep.equal({
        retries: limits.maxRetries + 1,
        retryTimeout: 100,
      });
      expect(service.handleServiceError.secondCall.args).to.have.length(5);
      expect(errors).to.have.length(1);
      expect(errors[0]?.error).to.be.instanceOf(BadRequestError).and.include({ code: 'BAD_REQUEST' });
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ error: thrown, type: 'service', retry: undefined });
    });

    it('keeps retry options within the limits in the short report', async () => {
      const service = stubService();
      service.handleServiceError.onFirstCall().rejects(new BadRequestError('errorDetails', 'too large'));
      const { failed } = await failOn(service, { ...taskRecord('a'), retries: limits.maxRetries });

      expect(service.handleServiceError.callCount).to.equal(2);
      const retry = { retries: limits.maxRetries, retryTimeout: 100 };
      expect(service.handleServiceError.secondCall.args[5]).to.deep.equal(retry);
      expect(failed[0]?.retry).to.deep.equal(retry);
    });
  });

  it('calls the service with the worker identity, workerId and task id', async () => {
    const service = stubService();
    service.fetchAndLock.onFirstCall().resolves([taskRecord('a'), taskRecord('b')]);
    const worker = bed.createWorker(
      {
        workerId: 'w-1',
        handler: (task) => {
          if (task.id === 'b') throw new BpmnError('E', 'm');
          return 'r';
        },
      },
      service,
    );
    await worker.start();
    await bed.clock.tickAsync(0);
    expect(service.finishExternalTask.calledOnceWithExactly(identity, 'w-1', 'a', 'r')).to.equal(true);
    expect(service.handleBpmnError.calledOnceWithExactly(identity, 'w-1', 'b', 'E', 'm')).to.equal(true);
  });
});

describe('BpmnError', () => {
  it('carries its code and message, and is an Error', () => {
    const error = new BpmnError('CODE', 'message');
    expect(error).to.be.instanceOf(Error);
    expect(error).to.include({ name: 'BpmnError', code: 'CODE', message: 'message' });
  });

  it('refuses an empty or missing code', () => {
    expect(() => new BpmnError('')).to.throw(TypeError, /code/);
    expect(() => new BpmnError(undefined as unknown as string)).to.throw(TypeError, /code/);
  });
});
