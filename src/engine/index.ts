export { Engine } from './engine.js';
export { buildPlan, type ObjectPlan, type ReferencePlan } from './plan.js';
export * from './types.js';
