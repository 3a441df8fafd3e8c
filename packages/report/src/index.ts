/**
 * @packageDocumentation
 * Pictures of a run: the text timeline, the self-contained HTML report (sequence diagram, "why"
 * explanations, sessions table, per-node timelines) and its pictures as SVG/PNG files.
 */
export { formatTimeline, formatTime, type TimelineOptions } from "./timeline.js";
export {
  buildReport,
  buildReportFromParts,
  reportParts,
  type ReportOptions,
  type ReportParts,
  type ReportViolation,
} from "./html.js";
export { writeReport, reportPictures, svgToPng, type WriteReportOptions, type Picture } from "./files.js";
export {
  computeSeries,
  seriesOf,
  valueAt,
  maxOf,
  coordinatorIntervals,
  type ClusterSeries,
  type NodeSeries,
  type StepSeries,
  type CoordinatorInterval,
} from "./series.js";
export {
  explain,
  explainAll,
  explanationText,
  whyNotListed,
  whySurvivedKill,
  whyCursorKilled,
  whyRecordExpired,
  answerParts,
  WhyKind,
  type Explanation,
  type ExplainOptions,
} from "./why.js";
export { analyze, type Analysis } from "./analysis.js";
export { sessionRows, type SessionRow } from "./sessions.js";
export type { EventLike } from "./events.js";
