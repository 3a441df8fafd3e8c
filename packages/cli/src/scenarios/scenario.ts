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
  run(cluster: Cluster): Promise<void>;
}
