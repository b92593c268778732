// The parts of camunda-external-task-client-js (an ESM package without types) that the specs use.
declare module 'camunda-external-task-client-js' {
  export interface TypedValue {
    value: unknown;
    type: string;
    valueInfo?: Record<string, unknown>;
  }

  export class Variables {
    constructor(initial?: Record<string, TypedValue>);
    getAll(): Record<string, unknown>;
    getAllTyped(): Record<string, TypedValue>;
    set(name: string, value: unknown): this;
    setTyped(name: string, typed: TypedValue): this;
  }

  /** A fetched task as the client hands it to a handler: Camunda's locked task, its variables wrapped. */
  export interface Task {
    id: string;
    topicName: string;
    workerId: string;
    lockExpirationTime: string;
    businessKey: string;
    processInstanceId: string;
    activityInstanceId: string;
    retries: number | null;
    errorMessage: string | null;
    errorDetails: string | null;
    priority: number;
    variables: Variables;
  }

  export interface FailureOptions {
    errorMessage?: string;
    errorDetails?: string;
    retries?: number;
    retryTimeout?: number;
  }

  export interface TaskService {
    complete(task: Task, variables?: Variables, localVariables?: Variables): Promise<void>;
    handleFailure(task: Task, options: FailureOptions): Promise<void>;
    handleBpmnError(
      task: Task,
      errorCode: string,
      errorMessage?: string,
      variables?: Variables,
    ): Promise<void>;
    extendLock(task: Task, newDuration: number): Promise<void>;
    unlock(task: Task): Promise<void>;
  }

  export type Handler = (args: { task: Task; taskService: TaskService }) => unknown;

  /** The request options of got, as interceptors see and change them. */
  export interface RequestConfig {
    headers?: Record<string, string>;
    [option: string]: unknown;
  }

  export interface ClientOptions {
    baseUrl: string;
    workerId?: string;
    maxTasks?: number;
    interval?: number;
    asyncResponseTimeout?: number;
    lockDuration?: number;
    autoPoll?: boolean;
    interceptors?: (config: RequestConfig) => RequestConfig;
  }

  export class Client {
    constructor(options: ClientOptions);
    subscribe(topic: string, handler: Handler): { unsubscribe(): void };
    subscribe(topic: string, options: { lockDuration?: number }, handler: Handler): { unsubscribe(): void };
    start(): void;
    stop(): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
