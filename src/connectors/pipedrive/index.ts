export { createPipedriveConnector, PipedriveConnector } from './pipedrive-connector.js';
export { pipedriveConnectionSchema, parsePipedriveConnectionConfig, PIPEDRIVE_API_BASE, PIPEDRIVE_OBJECTS } from './config.js';
export type { PipedriveConnectionConfig, PipedriveConnectorOptions, PipedriveSettings } from './config.js';
export { tokenCost } from './transport.js';
