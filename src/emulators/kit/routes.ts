/**
 * Route tables: `[method, pattern, ...vendor data]` with `:name` segments. Earlier routes win, so a literal
 * segment (`/deals/archived`) is listed before a parameter (`/deals/:id`). A path that matches a route of
 * another method is a 405, a path that matches none a 404 (the vendor words both).
 */
export interface RouteMatch<R> {
  route: R;
  params: string[];
}

export function matchPattern(pattern: string, path: string): string[] | undefined {
  const want = pattern.split('/');
  const have = path.replace(/\/+$/, '').split('/');
  if (want.length !== have.length) return undefined;
  const params: string[] = [];
  for (let index = 0; index < want.length; index++) {
    const segment = want[index]!;
    if (segment.startsWith(':')) params.push(decodeURIComponent(have[index]!));
    else if (segment !== have[index]) return undefined;
  }
  return params;
}

export function findRoute<R extends { method: string; pattern: string }>(routes: readonly R[], method: string, path: string): RouteMatch<R> | 'method-not-allowed' | 'not-found' {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPattern(route.pattern, path);
    if (!params) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'method-not-allowed' : 'not-found';
}
