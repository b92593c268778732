import { describeServiceBehaviour } from './service-behaviour.js';
import { inProcess, overExpress, overNodeHttp } from './transports.js';
import { describeWorkerBehaviour } from './worker-behaviour.js';

// One behaviour, several transports: a worker must not be able to tell them apart.
for (const transport of [inProcess, overNodeHttp, overExpress]) {
  describeServiceBehaviour(transport);
}
for (const transport of [inProcess, overNodeHttp]) {
  describeWorkerBehaviour(transport);
}
