export { clockMethods, systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { ManualClock } from './manual-clock.js';
export { abortableSleep } from './abortable-sleep.js';
export { delayAfter } from './delay-schedule.js';
export type { DelaySchedule } from './delay-schedule.js';
