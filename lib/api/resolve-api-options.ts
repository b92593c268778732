import { clockMethods, systemClock, type Clock } from '../clock/index.js';
import { consoleLogger, loggerMethods, type Logger } from '../logging/index.js';
import type { ExternalTaskRepository } from '../repository/index.js';
import { checkMethods, describeProblem, type Refusal } from '../validation/index.js';
import { tokenAccessPolicy, type AccessPolicy } from './access-policy.js';
import type { ExternalTaskApiOptions } from './external-task-api-options.js';
import { requireRepository } from './require-repository.js';

/** {@link ExternalTaskApiOptions} checked, with every default filled in. */
export interface ResolvedApiOptions {
  readonly repository: ExternalTaskRepository;
  readonly accessPolicy: AccessPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
}

const invalidOption: Refusal = (problem) => new TypeError(`ExternalTaskApi: ${describeProblem(problem)}`);

/**
 * Checks the facade's options at construction, so that a wrong clock, logger or policy is refused
 * there, not by the first long poll, failure or request that would call it.
 * @throws TypeError naming the option
 */
export function resolveApiOptions(options: ExternalTaskApiOptions): ResolvedApiOptions {
  const repository = requireRepository(options);
  const accessPolicy = checkMethods(
    invalidOption,
    'options.accessPolicy',
    options.accessPolicy ?? tokenAccessPolicy,
    ['authorize'],
  );
  if (accessPolicy.scope !== undefined && typeof accessPolicy.scope !== 'function') {
    throw invalidOption({
      name: 'options.accessPolicy.scope',
      expected: 'a function',
      value: accessPolicy.scope,
      kind: 'type',
    });
  }
  return {
    repository,
    accessPolicy,
    clock: checkMethods(invalidOption, 'options.clock', options.clock ?? systemClock, clockMethods),
    logger: checkMethods(invalidOption, 'options.logger', options.logger ?? consoleLogger, loggerMethods),
  };
}
