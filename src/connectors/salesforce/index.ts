export { SalesforceConnector, createSalesforceConnector, COLLECTION_SIZE } from './salesforce-connector.js';
export { parseSalesforceConnectionConfig, salesforceConnectionSchema, DEFAULT_EXTERNAL_ID_FIELD, DEFAULT_API_VERSION, type SalesforceConnectionConfig, type SalesforceSettings } from './config.js';
export { jwtAssertion, parseLimitInfo } from './transport.js';
