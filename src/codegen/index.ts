export { generate, generateWrapper, summarize, GENERATOR_NAME, type GeneratedWrapper, type GenerateOptions } from './generate.js';
export type { SkippedMember } from './plan.js';
export type { SkipReason } from './select.js';
export { CodegenError, type CodegenErrorCode } from './errors.js';
export { methodLabel, toSnakeCase, type LabelStyle } from '../label.js';
