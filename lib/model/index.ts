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
export { frozenRecord } from './frozen-record.js';
