export type {
  BpmnFailure,
  ExternalTask,
  ExternalTaskFailure,
  ExternalTaskState,
  Identity,
  JsonValue,
  NewExternalTask,
  ServiceFailure,
} from './external-task.js';
export type { JsonCompatible, NotJson } from './json-compatible.js';
export type {
  NewTaskOf,
  NewTopicTask,
  PayloadOf,
  ResultOf,
  TaskOf,
  TaskResult,
  TopicMap,
  TopicName,
  TopicTask,
  TopicTypes,
  UntypedTopics,
} from './topic-types.js';
export { frozenRecord } from './frozen-record.js';
export { defaultWorkerId } from './worker-id.js';
