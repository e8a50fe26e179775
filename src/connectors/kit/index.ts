export { authOptions, type AuthSpec } from './auth.js';
export { RequestBudget, type BudgetOptions, type BudgetUsage } from './budget.js';
export { ApiClient, headerNumber, type ApiClientOptions, type HeaderReading } from './client.js';
export { decodeCursor, encodeCursor } from './cursor.js';
export { settingsError } from './settings.js';
export { collect, cursorPages, offsetPages, type CursorPage, type OffsetPage } from './paging.js';
export { isWindowCursor, readWindow, windowStart, type WindowCursor, type WindowPage, type WindowSource } from './window.js';
export { createIdempotent, failure, findExternalIds, isRecordLevel, toRecordError, writeEach, type ErrorAttribution, type IdempotentCreateOptions } from './writes.js';
export { vendorErrorCode, vendorErrorField, vendorErrorMessage, vendorRecordError, type ErrorDeclarations, type ErrorDetail, type ErrorRule, type VendorErrorFacts } from './errors.js';
