export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
