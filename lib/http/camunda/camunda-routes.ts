import { LockedError } from '../../errors/index.js';
import { sendNoContent } from '../server/json-response.js';
import type { RequestContext } from '../server/request-context.js';
import type { Route } from '../server/router.js';
import { renameArgument, serviceErrorArguments, type ArgumentRenames } from '../wire/wire-arguments.js';
import { camundaFetchAndLock } from './camunda-fetch-route.js';
import type { ExternalTaskService } from '../../api/index.js';
import { variableValues } from './camunda-variables.js';

/** The worker named for Camunda's unlock of a task nobody holds, so that the api still judges the call. */
const noHolder = 'camunda-rest:no-holder';

const idParam = 'id';

/** The failure message when a worker reports a failure without one (Camunda's is optional). */
const missingFailureMessage = 'The worker reported a failure without a message.';

/**
 * Camunda's external-task routes, each calling one operation of `api`: the fetch, and the writes on a
 * task (`POST /external-task/{id}/…`), which answer 204. Arguments the api refuses are named as the
 * Camunda body names them.
 */
export function camundaRoutes(api: ExternalTaskService): Route<RequestContext>[] {
  const onTask = (
    action: string,
    renames: ArgumentRenames,
    write: (context: RequestContext, id: string) => Promise<void>,
  ): Route<RequestContext> => ({
    method: 'POST',
    path: `/external-task/:${idParam}/${action}`,
    handle: async (context, params) => {
      try {
        await write(context, params[idParam]!);
      } catch (error) {
        throw renameArgument(error, renames);
      }
      sendNoContent(context.res);
    },
  });
  return [
    {
      method: 'POST',
      path: '/external-task/fetchAndLock',
      handle: (context) => camundaFetchAndLock(api, context),
    },
    onTask('complete', {}, async (context, id) => {
      const body = await context.body();
      // One result: the variables, with the local ones over them (they would shadow them in the activity).
      const result = {
        ...variableValues(body.variables, 'variables'),
        ...variableValues(body.localVariables, 'localVariables'),
      };
      await api.finishExternalTask(await context.identity(), body.workerId as string, id, result);
    }),
    onTask('failure', serviceErrorArguments, async (context, id) => {
      const body = await context.body();
      await api.handleServiceError(
        await context.identity(),
        body.workerId as string,
        id,
        (body.errorMessage ?? missingFailureMessage) as string,
        body.errorDetails ?? undefined,
        // As in Camunda, no retries means none left (an incident), and no timeout retries at once.
        { retries: (body.retries ?? 0) as number, retryTimeout: (body.retryTimeout ?? 0) as number },
      );
    }),
    onTask('bpmnError', {}, async (context, id) => {
      const body = await context.body();
      await api.handleBpmnError(
        await context.identity(),
        body.workerId as string,
        id,
        body.errorCode as string,
        (body.errorMessage ?? undefined) as string | undefined,
      );
    }),
    onTask('extendLock', { additionalDuration: 'newDuration' }, async (context, id) => {
      const body = await context.body();
      await api.extendLock(await context.identity(), body.workerId as string, id, body.newDuration as number);
    }),
    onTask('unlock', {}, async (context, id) => unlockWhoeverHolds(api, context, id)),
  ];
}

/**
 * Camunda's unlock names no worker and takes no body: the task is given back on behalf of whoever holds
 * it, under the access policy. It is asked first as {@link noHolder}, so that the policy judges the caller
 * before anything is read, and a task outside the caller's scope is a 404 like an unknown one; a task in
 * scope that someone holds answers its holder (as a 423 would to any caller that may see it), on whose
 * behalf it is then given back. A task nobody holds stays as it is (204).
 */
async function unlockWhoeverHolds(
  api: ExternalTaskService,
  context: RequestContext,
  id: string,
): Promise<void> {
  const identity = await context.identity();
  try {
    await api.unlock(identity, noHolder, id);
  } catch (error) {
    if (nobodyHolds(error)) return;
    if (!(error instanceof LockedError)) throw error;
    // The lock may have ended meanwhile; taken by yet another worker, it is that worker's 423.
    await api.unlock(identity, error.lockedBy!, id).catch((again: unknown) => {
      if (!nobodyHolds(again)) throw again;
    });
  }
}

/** Whether a refusal says that nobody holds the task (Camunda's unlock of it changes nothing: 204). */
function nobodyHolds(error: unknown): boolean {
  return error instanceof LockedError && error.lockedBy === undefined;
}
