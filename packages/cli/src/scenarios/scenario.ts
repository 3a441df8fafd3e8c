import type { Cluster, ClusterOptions } from "sessionsim";

/** A named, documented story run on a fresh cluster; its narration goes into the trace as notes. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** The MongoDB behaviour it teaches, in a sentence or two. */
  readonly teaches: string;
  /** Where that behaviour comes from (server source file or manual page). */
  readonly source: string;
  /** Cluster options the story needs (the command line may override them). */
  readonly cluster?: ClusterOptions;
  /**
   * What the story needs of the cluster, checked against the command line's options: at least
   * `shards` shards and `mongos` routers (default 1 each), access control on or off (`auth`;
   * default: either — with it on, the story's clients authenticate as a root user).
   */
  readonly requires?: ScenarioRequirements;
  run(cluster: Cluster): Promise<void>;
}

/** See {@link Scenario.requires}. */
export interface ScenarioRequirements {
  readonly shards?: number;
  readonly mongos?: number;
  readonly auth?: boolean;
}
