import { expect } from 'chai';
import { InMemoryExternalTaskRepository, type AvailabilityHint } from '../../../lib/index.js';
import { newTask } from '../../../lib/testing/contract/case-inputs.js';

describe('InMemoryExternalTaskRepository: what one operation announces', () => {
  it('gathers one hint per topic, however many topics an operation touches and in whatever order', async () => {
    const repository = new InMemoryExternalTaskRepository();
    const heard: (readonly AvailabilityHint[])[] = [];
    await repository.watchAvailability((hints) => void heard.push(hints));
    const topics = Array.from({ length: 12 }, (_, index) => `topic-${index}`);
    // 3 rounds over the 12 topics, interleaved: a topic's later tasks join its first hint.
    await repository.createMany([0, 1, 2].flatMap(() => topics.map((topic) => newTask({ topic }))));

    expect(heard).to.have.length(1);
    expect(heard[0]).to.deep.equal(topics.map((topic) => ({ topic, delay: 0, count: 3 })));
  });
});
