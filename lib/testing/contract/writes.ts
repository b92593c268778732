import { expect } from 'chai';
import { UNKNOWN_ID } from './case-inputs.js';
import type { ContractBed } from './contract-bed.js';
import { describeComplete } from './complete.js';
import { describeExtendLock } from './extend-lock.js';
import { describeUnlock } from './unlock.js';

/**
 * The conditional writes of a held task (extendLock, complete, unlock), and that a write which did not
 * happen announces nothing.
 */
export function describeWrites(bed: ContractBed): void {
  describeExtendLock(bed);
  describeComplete(bed);
  describeUnlock(bed);

  describe('writes that did not happen', () => {
    it('announces nothing for writes that did not happen', async () => {
      const task = await bed.create();
      await bed.claim('holder', 1);
      await bed.forgetChanges();
      const before = await bed.repository.currentPosition();

      await bed.extend(task.id, 'intruder', 1000);
      await bed.finish(task.id, 'intruder');
      await bed.unlock(task.id, 'intruder');
      await bed.extend(UNKNOWN_ID, 'holder', 1000);
      await bed.claim('other', 10);

      expect(await bed.changes()).to.deep.equal([]);
      expect(await bed.repository.currentPosition()).to.equal(before);
    });
  });
}
