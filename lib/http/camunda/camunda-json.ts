/**
 * The content type of every JSON answer of the Camunda routes: exactly `application/json`, as Camunda
 * sends it. `camunda-external-task-client-js` parses an answer only when its content type is exactly this
 * (a `charset` parameter would leave the tasks of a fetch unread).
 */
export const camundaJsonHeaders: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
