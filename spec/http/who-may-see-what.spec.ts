import { expect } from 'chai';
import sinon from 'sinon';
import {
  ExternalTaskError,
  ForbiddenError,
  UnauthorizedError,
  type AccessPolicy,
  type ExternalTaskService,
  type Identity,
  type Logger,
  ExternalTaskWorker,
} from '../../lib/index.js';
import { newTask, rejectionOf } from '../support/fixtures.js';
import { useTransport } from './service-behaviour.js';
import { inProcess, overExpress, overNodeHttp, type TransportBed } from './transports.js';

const minute = 60_000;
const unknownId = '00000000-0000-4000-8000-000000000000';

/**
 * A token `tenant-x` (or `tenant-x.anything`) works for tenant x and sees only its tasks; any other token
 * is forbidden.
 */
const tenantPolicy: AccessPolicy = {
  authorize(caller) {
    const token = caller?.token;
    if (typeof token !== 'string' || token === '') throw new UnauthorizedError('no token');
    if (!token.startsWith('tenant-')) throw new ForbiddenError('not a tenant’s token');
  },
  scope: (caller) => ({ tenantIds: [caller!.token!.slice('tenant-'.length).split('.')[0]!] }),
};

const tenantA: Identity = { token: 'tenant-a' };
const tenantB: Identity = { token: 'tenant-b' };

/** Every operation a worker has on one task, called as `caller` and worker `workerId`. */
const taskOperations: readonly [
  string,
  (
    service: ExternalTaskService,
    caller: Identity | undefined,
    workerId: string,
    id: string,
  ) => Promise<unknown>,
][] = [
  ['extendLock', (s, caller, workerId, id) => s.extendLock(caller, workerId, id, minute)],
  ['finish', (s, caller, workerId, id) => s.finishExternalTask(caller, workerId, id, { ok: true })],
  ['handleBpmnError', (s, caller, workerId, id) => s.handleBpmnError(caller, workerId, id, 'E1')],
  ['handleServiceError', (s, caller, workerId, id) => s.handleServiceError(caller, workerId, id, 'broke')],
  ['unlock', (s, caller, workerId, id) => s.unlock(caller, workerId, id)],
];

/** A refusal as a worker sees it, with the task id it names replaced, so that two ids compare alike. */
async function refusalSeen(promise: Promise<unknown>, id: string): Promise<string> {
  const error = await rejectionOf(promise);
  expect(error).to.be.instanceOf(ExternalTaskError);
  const { name, status, code, message, ...fields } = error as ExternalTaskError & Record<string, unknown>;
  return JSON.stringify({ name, status, code, message, ...fields }).replaceAll(id, '<id>');
}

/** Spies on every method of the bed's repository; answers the names of those called since. */
function storeCalls(bed: TransportBed): () => string[] {
  const repository = bed.repository as unknown as Record<string, unknown>;
  const spies: [string, sinon.SinonSpy][] = [];
  for (let proto = Object.getPrototypeOf(repository) as object; proto !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || typeof repository[name] !== 'function') continue;
      if (spies.some(([spied]) => spied === name)) continue;
      spies.push([name, sinon.spy(repository, name as never)]);
    }
    proto = Object.getPrototypeOf(proto) as object;
  }
  return () => spies.filter(([, spy]) => spy.called).map(([name]) => name);
}

// Who may see what, over every transport: refusals come before the store is touched, and a worker cannot
// tell another tenant's task from one that does not exist.
for (const transport of [inProcess, overNodeHttp, overExpress]) {
  describe(`Who may see what ${transport.name}`, () => {
    const logged: unknown[][] = [];
    const logger: Logger = {
      error: (...entry) => void logged.push(entry),
      warn: (...entry) => void logged.push(entry),
    };
    const bed = useTransport(transport, { accessPolicy: tenantPolicy, logger });

    beforeEach(() => (logged.length = 0));

    afterEach(() => sinon.restore());

    async function heldBy(
      caller: Identity,
      workerId: string,
      tenantId: string,
      topic = 'invoice',
    ): Promise<string> {
      const { id } = await bed.repository.create(newTask(topic, { tenantId }));
      const [task] = await bed.api.fetchAndLock(caller, {
        workerId,
        topics: [{ topicName: topic, lockDuration: minute }],
        maxTasks: 1,
      });
      expect(task?.id).to.equal(id);
      return id;
    }

    it('refuses a caller without identity (401) and a forbidden one (403) before the store is touched', async () => {
      const id = await heldBy(tenantA, 'a-w1', 'a');
      const called = storeCalls(bed);
      for (const [caller, status] of [
        [undefined, 401],
        [{ token: 'guest' }, 403],
      ] as const) {
        const fetch = bed.service.fetchAndLock(caller, {
          workerId: 'a-w1',
          topics: [{ topicName: 'invoice', lockDuration: minute }],
          maxTasks: 1,
        });
        expect(await rejectionOf(fetch), 'fetchAndLock').to.include({ status });
        for (const [name, operation] of taskOperations) {
          expect(await rejectionOf(operation(bed.service, caller, 'a-w1', id)), name).to.include({ status });
        }
      }
      expect(called()).to.deep.equal([]);
      expect(await bed.repository.getById(id)).to.deep.include({ state: 'pending', workerId: 'a-w1' });
    });

    it('never hands out another tenant’s task, and answers for it exactly as for an id that does not exist', async () => {
      const available = (await bed.repository.create(newTask('invoice', { tenantId: 'b' }))).id;
      const held = await heldBy(tenantB, 'b-w1', 'b', 'shipping');
      const finished = await heldBy(tenantB, 'b-w1', 'b', 'billing');
      await bed.api.finishExternalTask(tenantB, 'b-w1', finished, {});
      const before = await Promise.all([available, held, finished].map((id) => bed.repository.getById(id)));

      const fetched = await bed.service.fetchAndLock(tenantA, {
        workerId: 'a-w1',
        topics: ['invoice', 'shipping', 'billing'].map((topicName) => ({ topicName, lockDuration: minute })),
        maxTasks: 10,
      });
      expect(fetched).to.deep.equal([]);
      for (const [name, operation] of taskOperations) {
        // As its own worker id, and as the holder's: neither tells the task apart from an unknown one.
        for (const workerId of ['a-w1', 'b-w1']) {
          const unknown = await refusalSeen(operation(bed.service, tenantA, workerId, unknownId), unknownId);
          for (const id of [available, held, finished]) {
            const seen = await refusalSeen(operation(bed.service, tenantA, workerId, id), id);
            expect(seen, `${name} as ${workerId}`).to.equal(unknown);
          }
        }
      }
      const after = await Promise.all([available, held, finished].map((id) => bed.repository.getById(id)));
      expect(after).to.deep.equal(before);
    });

    it('never writes a token or a payload to a log: not for a failing listener, a 500, nor a failing handler', async () => {
      const caller = { token: 'tenant-a.SECRET-TOKEN' };
      const payload = { card: 'SECRET-PAYLOAD' };
      bed.api.events.on('task:created', () => {
        throw new Error('a listener broke');
      });
      const first = await bed.api.engine.create(newTask('invoice', { tenantId: 'a', payload }));
      await bed.api.fetchAndLock(caller, {
        workerId: 'a-w1',
        topics: [{ topicName: 'invoice', lockDuration: minute }],
        maxTasks: 1,
      });
      sinon.stub(bed.repository, 'complete').rejects(new Error('the store is down'));
      await rejectionOf(bed.service.finishExternalTask(caller, 'a-w1', first.id, payload));
      sinon.restore();

      await bed.api.engine.create(newTask('shipping', { tenantId: 'a', payload }));
      const worker = new ExternalTaskWorker(bed.service, {
        topic: 'shipping',
        identity: caller,
        workerId: 'a-w2',
        handler: () => {
          throw new Error('the handler broke');
        },
        logger,
      });
      void worker.start();
      const handlerLogged = (): boolean =>
        logged.some(([message]) => String(message).includes('the handler broke'));
      for (let turns = 0; turns < 2000 && !handlerLogged(); turns++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await worker.stop();
      expect(handlerLogged(), 'the handler’s failure was logged').to.equal(true);

      expect(logged.length, 'something was logged').to.be.at.least(2);
      const text = logged
        .flat()
        .map((value) =>
          value instanceof Error
            ? `${value.stack}`
            : JSON.stringify(value, (_, inner: unknown) =>
                inner instanceof Error ? `${inner.stack} ${JSON.stringify({ ...inner })}` : inner,
              ),
        )
        .join('\n');
      expect(text).to.not.contain('SECRET-TOKEN');
      expect(text).to.not.contain('SECRET-PAYLOAD');
    });
  });
}
