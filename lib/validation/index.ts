export { limits } from './limits.js';
export {
  describeValue,
  optionalString,
  optionalText,
  requireDuration,
  requireInteger,
  requireObject,
  requireString,
} from './arguments.js';
export { copyJsonValue } from './json-value.js';
