import { expect } from 'chai';
import { ExternalTaskApi, InMemoryExternalTaskRepository, UnauthorizedError } from '../../lib/index.js';

describe('ExternalTaskApi: a 401 of the default policy says what was passed and where to set it', () => {
  const cases: [string, unknown, string][] = [
    ['no identity', undefined, 'no identity was passed'],
    ['null', null, 'the identity passed is null'],
    ['a string', 'secret-token', 'the identity passed is a string, not { token }'],
    ['an empty object', {}, 'the identity passed is an empty object'],
    ['an object without a token', { user: 'u', tenant: 't' }, 'has no token (its fields: user, tenant)'],
    ['an empty token', { token: '' }, 'the identity passed has an empty token'],
    ['a number as token', { token: 42 }, 'the identity passed has a token that is a number'],
  ];
  for (const [label, identity, says] of cases) {
    it(`for ${label}`, async () => {
      const api = new ExternalTaskApi({ repository: new InMemoryExternalTaskRepository() });
      const error = await api
        .fetchAndLockExternalTasks(identity as never, 'worker-1', 'send-invoice', 1, 0, 1_000)
        .then(
          () => expect.fail('the fetch was accepted'),
          (rejection: unknown) => rejection,
        );
      await api.close();
      expect(error).to.be.instanceOf(UnauthorizedError);
      const { message } = error as UnauthorizedError;
      expect(message).to.include(says);
      expect(message).to.include('(a worker: its `identity` option)');
      expect(message).to.include('an accessPolicy');
      expect(message).not.to.include('secret-token').and.not.include('42');
    });
  }
});
