import { expect } from 'chai';
import sinon from 'sinon';
import { BadRequestError, GoneError, LockedError, type ExternalTask } from '../../lib/index.js';
import { identity, newTask, rejectionOf, useApiTestbed } from '../support/fixtures.js';

const minute = 60_000;

describe('retries, incidents, unlock and cancellation through the api', () => {
  const bed = useApiTestbed();

  async function held(workerId = 'w1', overrides: Parameters<typeof newTask>[1] = {}): Promise<ExternalTask> {
    await bed.repository.create(newTask('invoice', overrides));
    const [task] = await bed.api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 1, 0, minute);
    return task!;
  }

  const poll = (workerId: string, timeout = 10 * minute): Promise<ExternalTask[]> =>
    bed.api.fetchAndLockExternalTasks(identity, workerId, 'invoice', 1, timeout, minute);

  describe('service errors with retries', () => {
    it('returns the task to pending, unlocked, and hands it out again only when the retry is due', async () => {
      const scheduled = sinon.spy();
      bed.api.events.on('task:retryScheduled', scheduled);
      const task = await held('w1', { retries: 3 });
      await bed.api.handleServiceError(
        identity,
        'w1',
        task.id,
        'smtp down',
        { code: 421 },
        { retries: 2, retryTimeout: 5000 },
      );

      const stored = await bed.repository.getById(task.id);
      expect(stored).to.include({ state: 'pending', retries: 2 });
      expect(stored?.workerId).to.equal(undefined);
      expect(stored?.retryAt?.getTime()).to.equal(bed.clock.now + 5000);
      expect(stored?.error).to.deep.equal({
        type: 'service',
        errorMessage: 'smtp down',
        errorDetails: { code: 421 },
      });
      expect(scheduled.calledOnce).to.equal(true);
      expect(await bed.api.fetchAndLockExternalTasks(identity, 'w2', 'invoice', 1, 0, minute)).to.deep.equal(
        [],
      );

      let answered: ExternalTask[] | undefined;
      void poll('w2').then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(4999);
      expect(answered).to.equal(undefined);
      await bed.clock.tickAsync(1);
      expect(answered?.map((t) => [t.id, t.workerId])).to.deep.equal([[task.id, 'w2']]);
    });

    it('the worker that failed no longer holds the task', async () => {
      const task = await held('w1');
      await bed.api.handleServiceError(identity, 'w1', task.id, 'boom', undefined, {
        retries: 1,
        retryTimeout: 100,
      });
      expect(await rejectionOf(bed.api.finishExternalTask(identity, 'w1', task.id, 'late'))).to.be.instanceOf(
        LockedError,
      );
    });

    it('retries 0 fails the task as an incident, and the engine hears it', async () => {
      const failed = sinon.spy();
      bed.api.events.on('task:failed', failed);
      const task = await held('w1', { retries: 1 });
      const outcome = bed.api.waitForOutcome(task.id);
      await bed.api.handleServiceError(identity, 'w1', task.id, 'still down', undefined, {
        retries: 0,
        retryTimeout: 0,
      });
      expect(await outcome).to.include({ state: 'failed', incident: true, retries: 0 });
      expect(failed.firstCall.args[0]).to.deep.include({ incident: true });
    });

    it('a service error without options fails the task as the spec says (an incident only if it had a budget)', async () => {
      const failed = sinon.spy((_event: { incident: boolean }) => undefined);
      bed.api.events.on('task:failed', failed);
      const plain = await held('w1');
      await bed.api.handleServiceError(identity, 'w1', plain.id, 'boom');
      const budgeted = await held('w1', { retries: 2 });
      await bed.api.handleServiceError(identity, 'w1', budgeted.id, 'boom');
      expect(failed.getCalls().map((call) => call.args[0].incident)).to.deep.equal([false, true]);
    });

    it('a BPMN error is never an incident', async () => {
      const task = await held('w1', { retries: 2 });
      await bed.api.handleBpmnError(identity, 'w1', task.id, 'E_RULE');
      const stored = await bed.repository.getById(task.id);
      expect(stored?.state).to.equal('failed');
      expect(stored?.incident).to.equal(undefined);
    });

    it('setRetries brings an incident back, and a waiting poll gets it at once', async () => {
      const task = await held('w1', { retries: 1 });
      await bed.api.handleServiceError(identity, 'w1', task.id, 'down', undefined, { retries: 0 });
      let answered: ExternalTask[] | undefined;
      void poll('w2').then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(1000);
      expect(answered).to.equal(undefined);
      await bed.repository.setRetries(task.id, 3);
      await bed.clock.tickAsync(0);
      expect(answered?.map((t) => [t.id, t.state, t.retries])).to.deep.equal([[task.id, 'pending', 3]]);
    });

    it('after setRetries the worker whose failure made the incident holds nothing', async () => {
      const task = await held('w1', { retries: 1 });
      await bed.api.handleServiceError(identity, 'w1', task.id, 'down', undefined, { retries: 0 });
      await bed.repository.setRetries(task.id, 2);
      expect(await rejectionOf(bed.api.finishExternalTask(identity, 'w1', task.id, 'late'))).to.be.instanceOf(
        LockedError,
      );
    });

    it('refuses bad retry options, naming them, and changes nothing', async () => {
      const task = await held('w1');
      for (const [options, argument] of [
        [{ retries: -1 }, 'options.retries'],
        [{ retries: 1.5 }, 'options.retries'],
        [{ retries: 1, retryTimeout: -5 }, 'options.retryTimeout'],
        [{ retries: 1, retryTimeout: 2 ** 31 }, 'options.retryTimeout'],
      ] as const) {
        const error = await rejectionOf(
          bed.api.handleServiceError(identity, 'w1', task.id, 'boom', undefined, options),
        );
        expect(error).to.be.instanceOf(BadRequestError).and.include({ argument });
      }
      expect((await bed.repository.getById(task.id))?.state).to.equal('pending');
    });
  });

  describe('unlock', () => {
    it('gives the task back at once: a waiting poll gets it and the old holder no longer holds it', async () => {
      const unlocked = sinon.spy();
      bed.api.events.on('task:unlocked', unlocked);
      const task = await held('w1');
      let answered: ExternalTask[] | undefined;
      void poll('w2').then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(10);
      await bed.api.unlock(identity, 'w1', task.id);
      await bed.clock.tickAsync(0);
      expect(answered?.map((t) => [t.id, t.workerId])).to.deep.equal([[task.id, 'w2']]);
      expect(unlocked.calledOnce).to.equal(true);
      expect(await rejectionOf(bed.api.extendLock(identity, 'w1', task.id, 1000))).to.be.instanceOf(
        LockedError,
      );
    });

    it('only the holder may unlock', async () => {
      const task = await held('w1');
      expect(await rejectionOf(bed.api.unlock(identity, 'w2', task.id))).to.be.instanceOf(LockedError);
      expect(await rejectionOf(bed.api.unlock(identity, 'w1', 'unknown'))).to.include({ status: 404 });
      await bed.api.finishExternalTask(identity, 'w1', task.id, null);
      expect(await rejectionOf(bed.api.unlock(identity, 'w1', task.id))).to.be.instanceOf(GoneError);
    });

    it('unlock racing extendLock: the two answers agree with the final record', async () => {
      const task = await held('w1');
      const [unlock, extend] = await Promise.allSettled([
        bed.api.unlock(identity, 'w1', task.id),
        bed.api.extendLock(identity, 'w1', task.id, 5000),
      ]);
      const stored = await bed.repository.getById(task.id);
      expect(unlock.status).to.equal('fulfilled');
      if (extend.status === 'fulfilled')
        expect(stored?.workerId).to.equal(undefined); // extended, then unlocked
      else expect(extend.reason).to.be.instanceOf(LockedError); // unlocked first
      expect(stored?.lockExpirationTime).to.equal(undefined);
    });
  });

  describe('cancellation by the engine', () => {
    it('ends the pending tasks of a process instance; the holder gets 410 saying it was cancelled', async () => {
      const cancelled = sinon.spy();
      bed.api.events.on('task:cancelled', cancelled);
      const task = await held('w1', { processInstanceId: 'pi-cancel' });
      await bed.repository.create(newTask('other', { processInstanceId: 'pi-cancel' }));
      const outcome = bed.api.waitForOutcome(task.id);
      expect(await bed.repository.cancel({ processInstanceId: 'pi-cancel' })).to.equal(2);
      expect((await outcome).state).to.equal('cancelled');
      expect(cancelled.callCount).to.equal(2);
      for (const call of [
        bed.api.extendLock(identity, 'w1', task.id, 1000),
        bed.api.finishExternalTask(identity, 'w1', task.id, 'done'),
        bed.api.handleServiceError(identity, 'w1', task.id, 'x'),
      ]) {
        const error = await rejectionOf(call);
        expect(error).to.be.instanceOf(GoneError).and.include({ status: 410, state: 'cancelled' });
        expect((error as GoneError).message).to.contain('cancelled');
      }
    });

    it('cancel racing finish: exactly one of them takes effect, and exactly one outcome event fires', async () => {
      for (const cancelFirst of [true, false]) {
        const outcomes = sinon.spy();
        bed.api.events.on('task:finished', outcomes);
        bed.api.events.on('task:cancelled', outcomes);
        const task = await held('w1');
        const finish = (): Promise<unknown> =>
          bed.api.finishExternalTask(identity, 'w1', task.id, 'done').then(
            () => 'finished',
            (error: unknown) => error,
          );
        const cancel = (): Promise<number> => bed.repository.cancel({ externalTaskId: task.id });
        const [finished, count] = cancelFirst
          ? await Promise.all([cancel(), finish()]).then(([c, f]) => [f, c] as const)
          : await Promise.all([finish(), cancel()]);
        const state = (await bed.repository.getById(task.id))?.state;
        if (state === 'cancelled') {
          expect([count, finished instanceof GoneError]).to.deep.equal([1, true]);
        } else {
          expect([state, count, finished]).to.deep.equal(['finished', 0, 'finished']);
        }
        expect(outcomes.callCount).to.equal(1);
        bed.api.events.removeAllListeners();
      }
    });

    it('a cancelled task is never handed out, even when a poll is waiting', async () => {
      const task = await bed.repository.create(newTask());
      await bed.repository.cancel({ externalTaskId: task.id });
      let answered: ExternalTask[] | undefined;
      void poll('w1', 1000).then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(1000);
      expect(answered).to.deep.equal([]);
    });
  });

  describe('lock expiry', () => {
    it('announces task:lockExpired when the lock runs out while a poll waits, without delaying that poll', async () => {
      const expired = sinon.spy((_event: { task: ExternalTask }) => undefined);
      bed.api.events.on('task:lockExpired', expired);
      await bed.repository.create(newTask());
      await bed.api.fetchAndLockExternalTasks(identity, 'w1', 'invoice', 1, 0, 3000);
      let answered: ExternalTask[] | undefined;
      void poll('w2').then((tasks) => (answered = tasks));
      await bed.clock.tickAsync(3000);
      expect(answered?.[0]?.workerId).to.equal('w2');
      expect(expired.calledOnce).to.equal(true);
      expect(expired.firstCall.args[0].task.workerId).to.equal('w1');
    });
  });
});
