import { expect } from 'chai';
import sinon from 'sinon';
import { BpmnError, ExternalTaskWorker, type ExternalTask } from '../../lib/index.js';
import { identity, newTask } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { useTransport } from './service-behaviour.js';
import type { Transport } from './transports.js';

/**
 * The {@link ExternalTaskWorker}, unchanged, against `transport`: it runs handlers and reports their
 * outcomes, retries, keeps locks and stops at once, whether the api is in its process or behind HTTP.
 */
export function describeWorkerBehaviour(transport: Transport): void {
  describe(`ExternalTaskWorker ${transport.name}`, () => {
    const bed = useTransport(transport);
    let worker: ExternalTaskWorker | undefined;

    afterEach(() => worker?.stop());

    function startWorker(
      handler: (task: ExternalTask) => unknown,
      options: Partial<ConstructorParameters<typeof ExternalTaskWorker>[1]> = {},
    ): ExternalTaskWorker {
      worker = new ExternalTaskWorker(bed.service, {
        topic: 'invoice',
        identity,
        handler,
        concurrency: 4,
        longPollingTimeout: 10_000,
        logger: silentLogger(),
        ...options,
      });
      void worker.start();
      return worker;
    }

    /** Resolves once the next fetch reaches the api (through whatever transport). */
    function nextFetch(): Promise<void> {
      const fetchAndLock = bed.api.fetchAndLock.bind(bed.api);
      return new Promise((resolve) => {
        sinon.stub(bed.api, 'fetchAndLock').callsFake((...args) => {
          resolve();
          return fetchAndLock(...args);
        });
      });
    }

    async function outcomesOf(ids: readonly string[]): Promise<ExternalTask[]> {
      return Promise.all(ids.map((id) => bed.api.waitForOutcome(id)));
    }

    it('runs the handler for every task and reports what it returned', async () => {
      startWorker((task) => ({ doubled: (task.payload as { n: number }).n * 2 }));
      const created = await Promise.all(
        Array.from({ length: 10 }, () => bed.repository.create(newTask('invoice'))),
      );
      const outcomes = await outcomesOf(created.map((task) => task.id));
      expect(outcomes.map((task) => task.state)).to.deep.equal(Array(10).fill('finished'));
      for (const [index, task] of outcomes.entries()) {
        expect(task.result).to.deep.equal({ doubled: (created[index]!.payload as { n: number }).n * 2 });
      }
    });

    it('reports a BpmnError as a BPMN error and anything else thrown as a service error', async () => {
      startWorker((task) => {
        if ((task.payload as { n: number }).n % 2 === 0)
          throw new BpmnError('EVEN', 'even numbers need approval');
        throw new Error('odd numbers crash');
      });
      const created = await Promise.all([
        bed.repository.create(newTask('invoice', { payload: { n: 2 } })),
        bed.repository.create(newTask('invoice', { payload: { n: 3 } })),
      ]);
      const [even, odd] = await outcomesOf(created.map((task) => task.id));
      expect(even?.error).to.deep.equal({
        type: 'bpmn',
        errorCode: 'EVEN',
        errorMessage: 'even numbers need approval',
      });
      expect(odd?.error).to.deep.include({ type: 'service', errorMessage: 'odd numbers crash' });
    });

    it('retries a failed handler by its retry policy, and the next attempt finishes the task', async () => {
      let attempts = 0;
      startWorker(
        () => {
          if (++attempts === 1) throw new Error('flaky');
          return 'second time lucky';
        },
        { retry: { retries: 2, delay: 10, jitter: 0 } },
      );
      const { id } = await bed.repository.create(newTask('invoice'));
      const [outcome] = await outcomesOf([id]);
      expect(outcome).to.deep.include({ state: 'finished', result: 'second time lucky', attempts: 2 });
    });

    it('keeps the lock of a running handler by extending it', async () => {
      let release!: () => void;
      const running = new Promise<void>((resolve) => (release = resolve));
      const extended: number[] = [];
      bed.api.events.on('task:extended', ({ task }) => {
        extended.push(task.lockExpirationTime!.getTime());
        if (extended.length === 2) release();
      });
      startWorker(() => running.then(() => 'done'), { lockDuration: 400, extendLockInterval: 50 });
      const { id } = await bed.repository.create(newTask('invoice'));
      const [outcome] = await outcomesOf([id]);
      expect(outcome?.state).to.equal('finished');
      expect(extended[1]).to.be.above(extended[0]!);
    });

    it('stop() ends its waiting long poll at once and leaves nothing claimed', async () => {
      const fetching = nextFetch();
      const started = startWorker(() => 'never runs', { longPollingTimeout: 60_000 });
      await fetching;
      await started.stop();
      // One round trip to the api: over HTTP, by its end the server has seen the stopped poll's connection close.
      await bed.service.fetchAndLockExternalTasks(identity, 'probe', 'no-such-topic', 1, 0, 1000);
      const { id } = await bed.repository.create(newTask('invoice'));
      const [task] = await bed.service.fetchAndLockExternalTasks(
        identity,
        'other',
        'invoice',
        1,
        5000,
        60_000,
      );
      expect(task?.id).to.equal(id);
    });
  });
}
