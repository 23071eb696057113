export { generateWrapper, GENERATOR_NAME, type GenerateOptions } from './generate.js';
export { CodegenError, type CodegenErrorCode } from './errors.js';
export { methodLabel, toSnakeCase, type LabelStyle } from '../label.js';
