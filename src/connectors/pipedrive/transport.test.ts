import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../emulators/pipedrive/routes.js';
import type { HttpMethod } from '../../core/http.js';
import { tokenCost } from './transport.js';

describe('pipedrive token costs', () => {
  it('the connector charges every endpoint the emulator serves what the emulator charges (both follow the OpenAPI x-token-cost)', () => {
    const differences = ROUTES.map((route) => ({ route: `${route.method} ${route.pattern}`, emulator: route.cost, connector: tokenCost({ method: route.method as HttpMethod, path: route.pattern.replace(/:[a-z_]+/gi, '7') }) })).filter(
      (entry) => entry.emulator !== entry.connector,
    );
    expect(differences).toEqual([]);
  });
});
