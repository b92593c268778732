import { expect } from 'chai';
import { ManualClock } from 'external-task-api/testing';
import { InMemoryExternalTaskRepository, type ExternalTaskQuery } from '../../../lib/index.js';
import { emptyTopicCounts } from '../../../lib/repository/topic-counts.js';
import { newTask, START } from '../../../lib/testing/contract/case-inputs.js';

const claimOf = (workerId: string, topicName = 'a') => ({
  workerId,
  topics: [{ topicName, lockDuration: 1000 }],
  maxTasks: 1,
});

describe('InMemoryExternalTaskRepository: secondary indexes', () => {
  it('builds an index at the first query that needs it and keeps it true through every later change', async () => {
    const clock = new ManualClock(START);
    const repository = new InMemoryExternalTaskRepository({ clock, finalTaskRetention: 10_000 });
    const ids = async (filter: ExternalTaskQuery): Promise<string[]> =>
      (await repository.query(filter)).tasks.map((task) => task.id);
    const first = await repository.create(newTask({ topic: 'a', processInstanceId: 'pi', tenantId: 't' }));
    await repository.claim(claimOf('w1'));

    // The first query by each field builds its index from the tasks there are.
    expect(await ids({ workerId: 'w1' })).to.deep.equal([first.id]);
    expect(await ids({ processInstanceId: 'pi' })).to.deep.equal([first.id]);
    expect(await ids({ tenantId: 't' })).to.deep.equal([first.id]);
    expect(await ids({ state: 'finished' })).to.deep.equal([]);

    // Later changes keep them true.
    const second = await repository.create(newTask({ topic: 'a', processInstanceId: 'pi' }));
    await repository.unlock({ externalTaskId: first.id, workerId: 'w1' });
    expect(await ids({ workerId: 'w1' })).to.deep.equal([]);
    await repository.claim(claimOf('w2'));
    await repository.claim(claimOf('w2'));
    expect(await ids({ workerId: 'w2' })).to.deep.equal([first.id, second.id]);
    await repository.complete({ externalTaskId: first.id, workerId: 'w2', outcome: { state: 'finished' } });
    expect(await ids({ state: 'finished', topic: 'a' })).to.deep.equal([first.id]);
    expect(await ids({ processInstanceId: 'pi', state: 'pending' })).to.deep.equal([second.id]);
    expect(await repository.countByTopic({ tenantId: 't' })).to.deep.equal([
      { ...emptyTopicCounts('a'), finished: 1 },
    ]);

    // A final task forgotten, or deleted, leaves every index.
    clock.advance(10_000);
    expect(await ids({ state: 'finished' })).to.deep.equal([]);
    expect(await ids({ processInstanceId: 'pi' })).to.deep.equal([second.id]);
    expect(await ids({ tenantId: 't' })).to.deep.equal([]);
    await repository.cancel({ processInstanceId: 'pi' });
    expect(await repository.deleteFinalTasks({ processInstanceId: 'pi' })).to.equal(1);
    expect(await ids({ workerId: 'w2' })).to.deep.equal([]);
    expect(await ids({ processInstanceId: 'pi' })).to.deep.equal([]);
  });
});
