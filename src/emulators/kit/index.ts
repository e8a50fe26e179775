/**
 * The emulator kit: what every vendor API emulator shares. See server.ts for the request life cycle and
 * docs/development.md ("Emulator kit") for how a vendor builds on it.
 */
export { startKitServer, type Admission, type BodyMode, type HandleContext, type KitRequest, type KitResponse, type KitServer, type KitServerOptions, type VendorHooks } from './server.js';
export { FaultInjector, pathMatches, type FaultMatch, type FaultRule, type ServerErrorStatus, type TriggeredFaults } from './faults.js';
export { DailyBudget, RateLimiter, RollingWindow, type BudgetState, type LimitDecision, type LimitRequest, type WindowLimit, type WindowState } from './limits.js';
export { IdSequence, RecordStore, RecordTable, type InsertOptions, type Row } from './store.js';
export { countCost, countRequest, emptyStats, type RequestLogEntry, type RequestStats } from './stats.js';
export { bearerToken, headerToken, queryToken } from './auth.js';
export { OAuthApp, type OAuthAppOptions, type TokenState } from './oauth.js';
export { findRoute, matchPattern, type RouteMatch } from './routes.js';
