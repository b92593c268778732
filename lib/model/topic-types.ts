import type { ExternalTask, JsonValue, NewExternalTask } from './external-task.js';
import type { JsonCompatible, NotJson } from './json-compatible.js';

/**
 * What a topic map (see {@link TopicMap}) declares for one topic.
 * @example
 * ```ts
 * type Topics = {
 *   'send-invoice': { payload: { customer: string; amount: number }; result: { invoiceNumber: string } };
 *   archive: { payload: { documentId: string } | null; result: undefined };
 * };
 * ```
 */
export interface TopicTypes {
  /**
   * The shape of the topic's payloads: a JSON value. Include `null` if the engine may create the topic's
   * tasks without a payload (they are stored with `null`); otherwise every create must give one.
   */
  readonly payload: unknown;
  /** The shape of what the topic's handlers return: a JSON value, or `undefined` for no result. */
  readonly result: unknown;
}

/**
 * The constraint on a map from topic name to its {@link TopicTypes}, as `ExternalTaskApi<Topics>` and
 * `HttpExternalTaskClient<Topics>` take it: every payload and result must be {@link JsonCompatible}, so a
 * `Date`, a function or a property declared `undefined` fails to compile where the map is given.
 * @typeParam Topics - The map, as a type literal or an interface.
 */
export type TopicMap<Topics> = {
  readonly [Topic in keyof Topics]: Topic extends string
    ? Topics[Topic] extends TopicTypes
      ? {
          readonly payload: JsonCompatible<Topics[Topic]['payload']>;
          // A result may also be undefined (or void): the handler returns nothing.
          readonly result:
            | JsonCompatible<Exclude<Topics[Topic]['result'], undefined | void>>
            | Extract<Topics[Topic]['result'], undefined | void>;
        }
      : TopicTypes
    : NotJson<'a topic name is a string'>;
};

/**
 * The topic map of an api given none: any topic, with JSON values as payloads and results. The types
 * of an untyped api are those of this map: its records are {@link ExternalTask}s.
 */
export interface UntypedTopics {
  readonly [topic: string]: { readonly payload: JsonValue; readonly result: JsonValue };
}

/** The topic names of a topic map (`string` for {@link UntypedTopics}). */
export type TopicName<Topics> = Extract<keyof Topics, string>;

/** The payload shape a topic map declares for `Topic`. */
export type PayloadOf<Topics, Topic extends keyof Topics> = Topics[Topic] extends {
  readonly payload: infer Payload;
}
  ? Payload
  : never;

/** The result shape a topic map declares for `Topic`. */
export type ResultOf<Topics, Topic extends keyof Topics> = Topics[Topic] extends {
  readonly result: infer Result;
}
  ? Result
  : never;

/**
 * The record of a task of the topic `Topic`: an {@link ExternalTask} whose `topic` says which, so that a
 * union of them narrows by `task.topic`.
 */
export interface TopicTask<Topic extends string, Payload, Result> extends ExternalTask<Payload, Result> {
  readonly topic: Topic;
}

/** The result a topic's record type ({@link TopicTask}) declares; for a union of them, the union of theirs. */
export type TaskResult<Task> = Task extends TopicTask<string, unknown, infer Result> ? Result : never;

/**
 * The records of the tasks of `Topic` (by default, of every topic) of a topic map: a union of
 * {@link TopicTask}s that `task.topic` narrows; for {@link UntypedTopics}, {@link ExternalTask}.
 */
export type TaskOf<Topics, Topic extends TopicName<Topics> = TopicName<Topics>> =
  string extends TopicName<Topics>
    ? ExternalTask<PayloadOf<Topics, string>, ResultOf<Topics, string>>
    : { [Name in Topic]: TopicTask<Name, PayloadOf<Topics, Name>, ResultOf<Topics, Name>> }[Topic];

/**
 * What creates a task of the topic `Topic` with the payload shape `Payload`: the payload may be left out
 * (the task is stored with `null`) only when `Payload` admits `null`.
 */
export type NewTopicTask<Topic extends string, Payload> = Omit<NewExternalTask, 'topic' | 'payload'> & {
  readonly topic: Topic;
} & (null extends Payload ? { readonly payload?: Payload | undefined } : { readonly payload: Payload });

/**
 * What creates a task of `Topic` (by default, of any topic) of a topic map: a union of
 * {@link NewTopicTask}s; for {@link UntypedTopics}, {@link NewExternalTask}.
 */
export type NewTaskOf<Topics, Topic extends TopicName<Topics> = TopicName<Topics>> =
  string extends TopicName<Topics>
    ? NewExternalTask
    : { [Name in Topic]: NewTopicTask<Name, PayloadOf<Topics, Name>> }[Topic];
