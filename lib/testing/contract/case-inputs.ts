import type { NewExternalTask } from '../../model/index.js';
import type { TopicClaim } from '../../repository/external-task-repository.js';

// What the contract's cases are made of: the clock's start, topics, new tasks, errors and odd values.

/** 2030-01-01T00:00:00.000Z: what the store's clock shows when every case starts. */
export const START = Date.UTC(2030, 0, 1);
export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
export const TOPIC = 'send-invoice';
export const OTHER_TOPIC = 'archive-invoice';
/** The lock duration of a claim that names none. */
export const LOCK = 1000;
export const ONE_MIB = 1024 * 1024;

let counter = 0;

/** A valid new task of {@link TOPIC} with fresh engine ids; `overrides` replace fields. */
export function newTask(overrides: Partial<NewExternalTask> = {}): NewExternalTask {
  counter++;
  return {
    topic: TOPIC,
    flowNodeInstanceId: `fni-${counter}`,
    correlationId: `corr-${counter}`,
    processInstanceId: `pi-${counter}`,
    ...overrides,
  };
}

/** Builds the claim of one topic. */
export function topicClaim(topicName: string, lockDuration = LOCK): TopicClaim {
  return { topicName, lockDuration };
}

export const bpmnError = { type: 'bpmn', errorCode: 'E-42', errorMessage: 'no stock' } as const;
export const serviceError = { type: 'service', errorMessage: 'mail server down' } as const;

export function cyclicObject(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

/** A small deterministic pseudo-random generator (mulberry32), so that failures reproduce. */
export function seededRandom(seed: number): (maxExclusive: number) => number {
  let state = seed >>> 0;
  return (maxExclusive) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * maxExclusive);
  };
}
