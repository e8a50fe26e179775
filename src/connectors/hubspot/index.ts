export { createHubspotConnector, HubspotConnector } from './hubspot-connector.js';
export { hubspotConnectionSchema, parseHubspotConnectionConfig, HUBSPOT_API_BASE } from './config.js';
export type { HubspotConnectionConfig, HubspotConnectorOptions, HubspotSettings } from './config.js';
export { createHubspotClient, listAll, REQUIRED_SCOPES } from './transport.js';
export { ASSOCIATION_FIELDS } from './model.js';
