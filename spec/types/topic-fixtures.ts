import type { TopicTask } from 'external-task-api';

export interface Invoice {
  readonly customer: string;
  readonly amount: number;
}
export interface Receipt {
  readonly invoiceNumber: string;
}

/**
 * The topic map of the type tests: a topic whose tasks need a payload, one whose tasks may be created
 * without (its payload admits null) and whose handler returns nothing, and one declared with type literals
 * only (its records are JSON values too, so an untyped worker would take them).
 */
export type Topics = {
  'send-invoice': { payload: Invoice; result: Receipt };
  archive: { payload: { readonly documentId: string } | null; result: undefined };
  'count-words': { payload: { text: string }; result: { words: number } };
};
export type InvoiceTask = TopicTask<'send-invoice', Invoice, Receipt>;
export type ArchiveTask = TopicTask<'archive', { readonly documentId: string } | null, undefined>;
export type CountTask = TopicTask<'count-words', { text: string }, { words: number }>;
/** Any record of the map. */
export type AnyTask = InvoiceTask | ArchiveTask | CountTask;

/** The engine's ids of a new task. */
export const ids = { correlationId: 'c', processInstanceId: 'p', flowNodeInstanceId: 'f' };
export const identity = { token: 'secret' };
