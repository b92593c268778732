import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import {
  ExternalTaskApi,
  ExternalTaskWorker,
  InMemoryExternalTaskRepository,
  type ExternalTaskService,
} from '../../lib/index.js';
import { createHttpHandler, HttpExternalTaskClient } from '../../lib/http/index.js';
import { PostgresExternalTaskRepository } from '../../lib/postgres/index.js';
import { countBackends, eventually, terminateBackends } from '../postgres/faults/backends.js';
import {
  adminPool,
  dropSchema,
  freshSchema,
  quietLogger,
  requireServer,
  serverUrl,
} from '../postgres/support.js';
import { identity, newTask } from '../support/fixtures.js';
import { silentLogger } from '../worker/worker-fixtures.js';
import { expectNoResourceLeft, MemoryCurve, resourcesAtStart, scale } from './leak-check.js';

const topic = 'leak-check';
const reports: string[] = [];

/** Creates `count` tasks of `topic`, in calls of at most 1,000 (createMany's limit). */
async function createTasks(api: ExternalTaskApi, count: number, topicName: string): Promise<void> {
  for (let made = 0; made < count; made += 1000) {
    await api.engine.createMany(
      Array.from({ length: Math.min(1000, count - made) }, () => newTask(topicName)),
    );
  }
}

/** `count` long polls at once, then as many tasks as half of them; the other half is aborted. */
async function longPolls(service: ExternalTaskService, api: ExternalTaskApi, count: number): Promise<void> {
  const controllers = Array.from({ length: count }, () => new AbortController());
  let served = 0;
  const polls = controllers.map((controller, k) =>
    service
      .fetchAndLock(identity, {
        workerId: `poller-${k}`,
        topics: [{ topicName: topic, lockDuration: 60_000 }],
        maxTasks: 1,
        longPollingTimeout: 60_000,
        signal: controller.signal,
      })
      .then((tasks) => {
        served += tasks.length;
        return tasks;
      }),
  );
  // Half of the polls get a task (and have it in hand before the others are aborted), the others wait.
  await createTasks(api, count / 2, topic);
  await eventually(
    () => served === count / 2,
    () => `${count / 2} polls served (${served} so far)`,
  );
  for (const controller of controllers) controller.abort();
  const answers = await Promise.all(polls);
  expect(answers.filter((tasks) => tasks.length === 1)).to.have.length(count / 2);
  expect(answers.filter((tasks) => tasks.length === 0)).to.have.length(count / 2);
}

/** Fetches `count` tasks of `topicName` through `service`, 100 at a time, and finishes each. */
async function workOff(service: ExternalTaskService, topicName: string, count: number): Promise<void> {
  for (let left = count; left > 0;) {
    const tasks = await service.fetchAndLock(identity, {
      workerId: 'work-off',
      topics: [{ topicName, lockDuration: 60_000 }],
      maxTasks: 100,
    });
    expect(tasks.length, 'tasks fetched while tasks were left').to.be.greaterThan(0);
    await Promise.all(tasks.map((task) => service.finishExternalTask(identity, 'work-off', task.id, {})));
    left -= tasks.length;
  }
}

/** `total` tasks created and worked off in slices, sampling memory after each. */
async function lifecycle(api: ExternalTaskApi, total: number, curve: MemoryCurve): Promise<void> {
  const slice = Math.max(100, Math.floor(total / 20));
  for (let done = 0; done < total; done += slice) {
    await createTasks(api, slice, topic);
    await workOff(api, topic, slice);
    curve.sample(done + slice);
  }
}

/** Workers started and stopped `cycles` times, each after its first fetch came back. */
async function workerCycles(api: ExternalTaskApi, cycles: number): Promise<void> {
  // Enough tasks that every worker's first fetch brings some (a worker takes up to its concurrency).
  await createTasks(api, cycles * 4, topic);
  for (let cycle = 0; cycle < cycles; cycle++) {
    const worker = new ExternalTaskWorker(api, {
      topic,
      identity,
      workerId: `cycle-${cycle}`,
      handler: () => ({}),
      concurrency: 4,
      longPollingTimeout: 1000,
      logger: silentLogger(),
    });
    const fetched = new Promise<void>((resolve) => worker.events.once('worker:fetched', () => resolve()));
    void worker.start();
    await fetched;
    await worker.stop();
    expect(worker.events.eventNames(), 'listeners left on the worker').to.deep.equal([]);
  }
}

function inMemoryApi(): ExternalTaskApi {
  const logger = silentLogger();
  const repository = new InMemoryExternalTaskRepository({ logger, finalTaskRetention: 0 });
  return new ExternalTaskApi({ repository, logger });
}

describe(`Nothing is left behind (${process.env.LEAK_SCALE === 'full' ? 'full' : 'CI'} scale)`, function () {
  this.timeout(process.env.LEAK_SCALE === 'full' ? 1_800_000 : 120_000);

  after(() => {
    if (reports.length > 0) console.log(`      ${reports.join('\n      ')}`);
  });

  it(`in memory: ${scale.polls} long polls, ${scale.tasks} tasks, ${scale.workerCycles} worker cycles`, async () => {
    const before = await resourcesAtStart();
    const api = inMemoryApi();
    await longPolls(api, api, scale.polls);
    const curve = new MemoryCurve();
    await lifecycle(api, scale.tasks, curve);
    await workerCycles(api, scale.workerCycles);
    await api.close();
    expect(api.events.eventNames(), 'listeners left on the api').to.deep.equal([]);
    await expectNoResourceLeft(before);
    reports.push(curve.describe(`in memory, ${scale.tasks} tasks`));
  });

  it(`over HTTP: ${scale.polls} long polls and ${scale.tasks / 5} tasks through a client`, async () => {
    const before = await resourcesAtStart();
    const api = inMemoryApi();
    const server = http.createServer(createHttpHandler(api, { logger: silentLogger(), allowAnyToken: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new HttpExternalTaskClient({ baseUrl: `http://127.0.0.1:${port}/api/external_task/v1` });
    await longPolls(client, api, scale.polls);
    // A topic of its own: a poll the client aborted may still wait on the server for a moment (until the
    // close of its connection arrives) and take a task of the poll topic for nobody, held until its lock
    // expires.
    const tasksTopic = `${topic}-tasks`;
    await createTasks(api, scale.tasks / 5, tasksTopic);
    await workOff(client, tasksTopic, scale.tasks / 5);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await api.close();
    await expectNoResourceLeft(before);
  });

  describe('on the PostgreSQL server', () => {
    before(async function () {
      await requireServer(this);
    });

    it(`${scale.reconnects} reconnects and ${scale.postgresTasks} tasks leave no connection and no handle`, async () => {
      const before = await resourcesAtStart();
      // The test's own connections, ended before the check (the store's are the ones that must go).
      const admin = { pool: adminPool() };
      const schema = freshSchema();
      const applicationName = `leak-check-${schema}`;
      const repository = new PostgresExternalTaskRepository(
        { connectionString: serverUrl },
        { schema, applicationName, logger: quietLogger(), poolSize: 4, finalTaskRetention: 0 },
      );
      try {
        await repository.migrate();
        const api = new ExternalTaskApi({ repository, logger: silentLogger() });
        const curve = new MemoryCurve();
        await lifecycle(api, scale.postgresTasks, curve);
        for (let round = 0; round < scale.reconnects; round++) {
          await terminateBackends(admin.pool, applicationName, 'all');
          // Back once a claim works and the LISTEN connection is there again.
          await eventually(
            async () => {
              try {
                await api.engine.create(newTask(topic));
                const [task] = await api.fetchAndLock(identity, {
                  workerId: 'reconnect',
                  topics: [{ topicName: topic, lockDuration: 60_000 }],
                  maxTasks: 1,
                });
                if (task) await api.finishExternalTask(identity, 'reconnect', task.id, {});
                return (await countBackends(admin.pool, applicationName, 'listen')) > 0;
              } catch {
                return false;
              }
            },
            `the store back after reconnect ${round + 1}`,
          );
        }
        await api.close();
        await repository.close();
        await eventually(
          async () => (await countBackends(admin.pool, applicationName, 'all')) === 0,
          'every connection of the store closed',
        );
        reports.push(curve.describe(`PostgreSQL, ${scale.postgresTasks} tasks`));
      } finally {
        await dropSchema(admin.pool, schema);
        await admin.pool.end();
      }
      await expectNoResourceLeft(before);
    });
  });
});
