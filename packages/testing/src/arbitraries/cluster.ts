import fc from "fast-check";
import type { ClusterOptions } from "sessionsim";
import { WORKLOAD_USERS } from "../model/system.js";

/**
 * Bounds of {@link clusterOptions}.
 *
 * @example
 * clusterOptions({ shards: 2, mongos: { min: 1, max: 3 }, auth: true, parameters: false });
 */
export interface ClusterOptionsConstraints {
  readonly shards?: { readonly min: number; readonly max: number } | number;
  readonly mongos?: { readonly min: number; readonly max: number } | number;
  /** true / false forces access control; undefined lets it vary. */
  readonly auth?: boolean;
  /** Also vary the session parameters (refresh interval, timeout, maxSessions, lifetime limit); default true. */
  readonly parameters?: boolean;
  /** Vary the network's latency (default false: MongoDB-like sub-millisecond LAN). */
  readonly network?: boolean;
}

const range = (
  v: { readonly min: number; readonly max: number } | number | undefined,
  dflt: { min: number; max: number },
) => (typeof v === "number" ? { min: v, max: v } : (v ?? dflt));

/**
 * Cluster options: seed, shards, mongos, access control with the workload's users, and MongoDB
 * session parameters around their defaults (short refresh intervals and small `maxSessions`
 * included, so limits are reached).
 *
 * @example
 * fc.assert(fc.asyncProperty(clusterOptions({ shards: 2 }), async (options) => {
 *   const cluster = await Cluster.start(options);
 *   // ...
 *   await cluster.stop();
 * }));
 */
export function clusterOptions(constraints: ClusterOptionsConstraints = {}): fc.Arbitrary<ClusterOptions> {
  const shards = range(constraints.shards, { min: 0, max: 3 });
  const mongos = range(constraints.mongos, { min: 1, max: 3 });
  const params =
    constraints.parameters === false
      ? fc.constant({})
      : fc.record(
          {
            logicalSessionRefreshMillis: fc.constantFrom(300_000, 300_000, 60_000, 10_000),
            localLogicalSessionTimeoutMinutes: fc.constantFrom(30, 30, 5),
            maxSessions: fc.constantFrom(1_000_000, 1_000_000, 1_000_000, 3, 10),
            transactionLifetimeLimitSeconds: fc.constantFrom(60, 60, 10),
          },
          { requiredKeys: [] },
        );
  const network =
    constraints.network === true
      ? fc.option(
          fc.record({
            latency: fc.oneof(
              fc.record({
                kind: fc.constant("uniform" as const),
                minMs: fc.constant(0.2),
                maxMs: fc.constantFrom(2, 10),
              }),
              fc.record({
                kind: fc.constant("exponential" as const),
                minMs: fc.constant(0.2),
                meanMs: fc.constantFrom(1, 20),
              }),
            ),
          }),
          { nil: undefined },
        )
      : fc.constant(undefined);
  return fc
    .record({
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      shards: fc.integer(shards),
      mongos: fc.integer(mongos),
      auth: constraints.auth === undefined ? fc.boolean() : fc.constant(constraints.auth),
      parameters: params,
      network,
    })
    .map(({ network: net, ...o }) => ({
      ...o,
      // The workload's users exist either way; without access control they own nothing.
      users: Object.values(WORKLOAD_USERS),
      ...(net === undefined ? {} : { network: net }),
    }));
}
