import { Random } from '../../sample/random.js';

/**
 * Seeded fault injection shared by the emulators. A test adds rules; the server draws once per request
 * (`evaluate`) and acts on what fired. Every draw comes from one seeded PRNG, so a run with the same seed and
 * the same requests in the same order fires the same faults.
 *
 * Each rule is limited to requests whose path matches `path` (a string with `*` wildcards, matched against
 * the whole path, or a RegExp) and `method`, fires with `probability` and at most `count` times, after
 * letting `skip` matching requests through.
 */
export interface FaultMatch {
  path?: string | RegExp;
  method?: string;
  /** 0..1, default 1. */
  probability?: number;
  /** Fire at most this many times, then the rule retires. Default: unlimited. */
  count?: number;
  /** Let this many matching requests through before the rule starts firing (e.g. 1: only retries). Default 0. */
  skip?: number;
}

export type ServerErrorStatus = 500 | 502 | 503 | 504;

export type FaultRule =
  | (FaultMatch & { kind: 'latency'; ms: number })
  | (FaultMatch & { kind: 'server-error'; status: ServerErrorStatus })
  /** Destroys the socket. `afterWrite`: the request is carried out first and only the response is lost. */
  | (FaultMatch & { kind: 'drop-connection'; afterWrite?: boolean })
  /** A 429 as if a limit had been hit; `policyName` is the vendor's name of the limit (the vendor picks the body). */
  | (FaultMatch & { kind: 'rate-limit'; policyName?: string })
  /** A multi-item write: this fraction of its items fails, chosen by the seeded PRNG (see `draw`). */
  | (FaultMatch & { kind: 'partial-batch'; fraction: number })
  /**
   * Holds the request before it runs until the test releases the rule (`release`): a client stopped at a
   * known point, deterministically (no sleep). A request whose client went away while held is not run.
   */
  | (FaultMatch & { kind: 'hold' });

interface ActiveRule {
  id: number;
  rule: FaultRule;
  remaining: number;
  fired: number;
  skipped: number;
}

export interface TriggeredFaults {
  latencyMs: number;
  /** The first terminal fault that fired (server error, drop, rate limit), if any. */
  terminal?: FaultRule;
  partialBatchFraction?: number;
  /** A hold rule fired: the request waits for this before it runs. */
  hold?: Promise<void>;
}

export function pathMatches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) return pattern.test(path);
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(path);
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  private random: Random;

  constructor(seed = 1) {
    this.random = new Random(seed);
  }

  /** Restarts the PRNG (e.g. at the start of a test) so draws repeat. */
  reseed(seed: number): void {
    this.random = new Random(seed);
  }

  add(rule: FaultRule): number {
    const id = this.nextId++;
    this.rules.push({ id, rule, remaining: rule.count ?? Number.POSITIVE_INFINITY, fired: 0, skipped: 0 });
    return id;
  }

  latency(ms: number, match: FaultMatch = {}): number {
    return this.add({ kind: 'latency', ms, ...match });
  }

  serverError(status: ServerErrorStatus, match: FaultMatch = {}): number {
    return this.add({ kind: 'server-error', status, ...match });
  }

  dropConnection(match: FaultMatch & { afterWrite?: boolean } = {}): number {
    return this.add({ kind: 'drop-connection', ...match });
  }

  /** A 429 storm: matching requests are refused as if a rate limit had been hit. */
  rateLimitStorm(match: FaultMatch & { policyName?: string } = {}): number {
    return this.add({ kind: 'rate-limit', ...match });
  }

  /** Partial failures of multi-item writes (the vendor says which requests are eligible). */
  partialBatch(fraction: number, match: FaultMatch = {}): number {
    return this.add({ kind: 'partial-batch', fraction, ...match });
  }

  /** Requests matching are held until `release(id)`; `held(id)` says how many wait now. */
  hold(match: FaultMatch = {}): number {
    const id = this.add({ kind: 'hold', ...match });
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((done) => (resolve = done));
    this.gates.set(id, { held: 0, promise, resolve });
    return id;
  }

  held(id: number): number {
    return this.gates.get(id)?.held ?? 0;
  }

  /** Lets the requests a hold rule holds go on; later matching requests are no longer held. */
  release(id: number): void {
    this.gates.get(id)?.resolve();
    this.gates.delete(id);
    this.remove(id);
  }

  private readonly gates = new Map<number, { held: number; promise: Promise<void>; resolve: () => void }>();

  remove(id: number): void {
    this.rules = this.rules.filter((rule) => rule.id !== id);
  }

  clear(): void {
    for (const id of [...this.gates.keys()]) this.release(id);
    this.rules = [];
  }

  /** How often each rule fired, by id. */
  fired(): Record<number, number> {
    return Object.fromEntries(this.rules.map((rule) => [rule.id, rule.fired]));
  }

  /**
   * Draws for one request. Latency rules add up; the first terminal rule (server error, drop, rate limit) wins
   * and later terminal rules are not drawn for; partial-batch rules only apply where `partialEligible`.
   */
  evaluate(method: string, path: string, partialEligible: boolean): TriggeredFaults {
    const triggered: TriggeredFaults = { latencyMs: 0 };
    for (const active of this.rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!pathMatches(rule.path, path)) continue;
      if (rule.kind === 'partial-batch' && !partialEligible) continue;
      if (rule.kind !== 'latency' && rule.kind !== 'partial-batch' && rule.kind !== 'hold' && triggered.terminal) continue;
      if (active.skipped < (rule.skip ?? 0)) {
        active.skipped++;
        continue;
      }
      if (this.random.next() >= (rule.probability ?? 1)) continue;
      active.remaining--;
      active.fired++;
      if (rule.kind === 'latency') triggered.latencyMs += rule.ms;
      else if (rule.kind === 'hold') {
        const gate = this.gates.get(active.id);
        if (gate) {
          gate.held += 1;
          triggered.hold = gate.promise.then(() => void (gate.held -= 1));
        }
      }
      else if (rule.kind === 'partial-batch') triggered.partialBatchFraction = rule.fraction;
      else triggered.terminal = rule;
    }
    return triggered;
  }

  /** Draw used to pick the items a partial-batch fault fails. */
  draw(): number {
    return this.random.next();
  }
}
