export { Engine } from './engine.js';
export { buildPlan, schemaWithFieldsToCreate, type ObjectPlan, type ReferencePlan } from './plan.js';
export * from './types.js';
