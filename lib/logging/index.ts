export { consoleLogger, loggerMethods } from './logger.js';
export type { Logger } from './logger.js';
