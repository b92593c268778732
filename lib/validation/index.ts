export { limits } from './limits.js';
export {
  optionalBoolean,
  optionalString,
  optionalText,
  requireDuration,
  requireCallbacks,
  requireInteger,
  requireMethods,
  requireNumber,
  requireObject,
  requireString,
  renamedOption,
} from './arguments.js';
export {
  checkInteger,
  checkMethods,
  checkNumber,
  checkObject,
  checkString,
  describeProblem,
  describeValue,
  storableText,
  type ProblemKind,
  type Refusal,
  type ValueProblem,
} from './value-checks.js';
export { copyJsonValue } from './json-value.js';
