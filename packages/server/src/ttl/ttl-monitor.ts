import type { ServerNode } from "../node/server-node.js";
import { peekReplicationCoordinator } from "../repl/replication-coordinator.js";

/**
 * The TTL monitor of a mongod: every `ttlMonitorSleepSecs` (60 s) it deletes, in every collection
 * with a TTL index, the documents whose indexed date plus `expireAfterSeconds` has passed — this
 * is how `config.system.sessions` records expire (`lsidTTLIndex`).
 *
 * @remarks
 * `TTLMonitor::run` (`src/mongo/db/ttl/ttl.cpp`): sleep `ttlMonitorSleepSecs`, then a pass over
 * every TTL index, only while `ttlMonitorEnabled`, and only where the node accepts writes (not on a
 * stepped-down member, except for `local`). A record therefore disappears between 0 and ~60 s after `lastUse +
 * expireAfterSeconds` (reference §1.4). Each pass that deletes something traces `ttl.expire` with
 * the namespace and the deleted `_id`s. Collections are visited in namespace order.
 *
 * @example
 * ```ts
 * const monitor = new TTLMonitor(node); // on a mongod; schedules itself
 * monitor.doTTLPass();                  // one pass now; returns how many documents it deleted
 * ```
 */
export class TTLMonitor {
  /** Passes run so far (`serverStatus.metrics.ttl.passes`). */
  passes = 0;
  /** Documents deleted so far (`serverStatus.metrics.ttl.deletedDocuments`). */
  deletedDocuments = 0;

  constructor(private readonly node: ServerNode) {
    if (node.durable === undefined) return;
    const period = node.params.ttlMonitorSleepSecs * 1000;
    const fire = (): void => {
      node.ctx.setTimer(period, fire);
      if (node.params.ttlMonitorEnabled) this.doTTLPass();
    };
    node.ctx.setTimer(period, fire);
  }

  /** One pass over every TTL index of the node's catalog; returns the number of documents deleted. */
  doTTLPass(): number {
    const catalog = this.node.durable?.catalog;
    if (catalog === undefined) return 0;
    this.passes++;
    const now = new Date(this.node.now());
    let deleted = 0;
    const repl = peekReplicationCoordinator(this.node);
    for (const ns of catalog.listNamespaces()) {
      if (repl !== undefined && !repl.canAcceptWritesForDatabase(ns.slice(0, ns.indexOf(".")))) continue;
      const expired = catalog.get(ns)?.expireTtl(now) ?? [];
      if (expired.length === 0) continue;
      deleted += expired.length;
      this.node.ctx.record({ type: "ttl.expire", ns, ids: expired.map((d) => d._id) });
    }
    this.deletedDocuments += deleted;
    return deleted;
  }
}
