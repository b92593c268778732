export { limits } from './limits.js';
export {
  optionalString,
  optionalText,
  requireDuration,
  requireInteger,
  requireObject,
  requireString,
} from './arguments.js';
export { copyJsonValue } from './json-value.js';
