import { expect } from 'chai';
import { limits, type ExternalTask } from '../../lib/index.js';
import { BpmnError, type ExternalTaskHandler } from '../../lib/worker/index.js';
import { newTask, recordEvents, settle, useWorkerTestbed } from './worker-fixtures.js';

/** A character outside the Basic Multilingual Plane: two UTF-16 code units, a surrogate pair. */
const emoji = '\u{1F600}';

describe('worker: error texts the API refuses as they are (NUL characters, split surrogate pairs, names that are not strings)', () => {
  const bed = useWorkerTestbed();

  /** Creates one task, lets the worker handle it, and answers the stored record and the worker errors. */
  async function runOne(handler: ExternalTaskHandler) {
    const worker = bed.startWorker({ handler });
    const errors = recordEvents(worker, 'worker:error');
    const { id } = await bed.repository.create(newTask());
    const task: ExternalTask = await settle(bed.clock, bed.api.waitForOutcome(id));
    return { task, errors };
  }

  it('reports a BPMN error whose long message is cut inside a surrogate pair as that BPMN error', async () => {
    const message = 'x'.repeat(limits.maxMessageLength - 1) + emoji;
    const { task, errors } = await runOne(() => {
      throw new BpmnError('PAYMENT_DECLINED', message);
    });
    expect(task.error).to.deep.equal({
      type: 'bpmn',
      errorCode: 'PAYMENT_DECLINED',
      errorMessage: 'x'.repeat(limits.maxMessageLength - 1),
    });
    expect(errors).to.deep.equal([]);
  });

  it("keeps the message of a handler's error that holds a NUL character, the NUL replaced", async () => {
    // As JSON.parse's SyntaxError for a body that starts with a NUL byte quotes it.
    const { task, errors } = await runOne(() => {
      throw new SyntaxError("Unexpected token '\u0000' in the body");
    });
    const error = task.error as unknown as {
      errorMessage: string;
      errorDetails: { name: string; stack: string };
    };
    expect(error.errorMessage).to.equal("Unexpected token '\ufffd' in the body");
    expect(error.errorDetails.name).to.equal('SyntaxError');
    expect(error.errorDetails.stack).to.match(/^SyntaxError: Unexpected token '\ufffd' in the body\n/);
    expect(errors).to.deep.equal([]);
  });

  it('reports an error whose name is not a string as a service error with its message', async () => {
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
