/**
 * @packageDocumentation
 * Pictures of a run: the text timeline (and, with the teaching issue, the HTML report).
 */
export { formatTimeline, formatTime, type TimelineOptions } from "./timeline.js";
