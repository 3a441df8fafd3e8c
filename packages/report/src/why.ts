/**
 * "Why?" explanations in plain words for the events a learner asks about, each pointing at the
 * events that caused it. Pure functions of the trace (through `analyze`), unit-tested in
 * `test/why.test.ts`.
 *
 * Answers are sentences in which `⟨label|#seq⟩` marks a reference to trace event `seq` (the page
 * turns these into links that highlight the event; `explanationText` into `label (#seq)`).
 *
 * The rules they rest on (shared/reference/mongo-sessions-semantics.md):
 * - a session reaches `config.system.sessions` only through the periodic refresh of a node that
 *   saw it (`LogicalSessionCacheImpl::_refresh`), each node on its own timer;
 * - a crash loses the in-memory cache; an unrefreshed session is then gone until used again;
 * - a kill aborts only unprepared transactions (`killSessionsAbortUnpreparedTransactions`,
 *   kill_sessions_local.cpp): prepared ones survive it;
 * - a refresh kills the node's cursors whose session was ended there or whose record is gone;
 * - the TTL index deletes a record `localLogicalSessionTimeoutMinutes` after its `lastUse`, which
 *   the last refresh that upserted it set.
 */
import {
  analyze,
  lastRecordChange,
  recordExistsAt,
  KILL_COMMANDS,
  type Analysis,
  type KillFact,
  type MessageFact,
  type RecordChange,
  type RefreshFact,
  type TxnFact,
} from "./analysis.js";
import { lsidOf, shortId, str, type AnyEvent, type EventLike } from "./events.js";
import { formatTime } from "./timeline.js";

export const WhyKind = Object.freeze({
  notListed: "notListed",
  listed: "listed",
  survivedKill: "survivedKill",
  cursorKilled: "cursorKilled",
  recordExpired: "recordExpired",
} as const);
export type WhyKind = (typeof WhyKind)[keyof typeof WhyKind];

/** One explanation. */
export interface Explanation {
  /** Stable id (kind, subject and session). */
  readonly id: string;
  readonly kind: WhyKind;
  /** The learner's question, e.g. "Why is session 1a2b3c4d not in $listSessions at +00:00:01.002?" */
  readonly question: string;
  /** Sentences with `⟨label|#seq⟩` references. */
  readonly answer: readonly string[];
  /** The event asked about. */
  readonly subject: number;
  /** The events that caused it, in trace order. */
  readonly causes: readonly number[];
  readonly session?: string;
  readonly node?: string;
}

/** A reference to event `seq` shown as `label`. */
export function ref(seq: number, label: string): string {
  return `⟨${label.replace(/[⟨⟩|]/g, " ")}|#${seq}⟩`;
}

const REF = /⟨([^|⟩]*)\|#(\d+)⟩/g;

/** The sequence numbers an answer refers to. */
export function referencedSeqs(text: string): number[] {
  return [...text.matchAll(REF)].map((m) => Number(m[2]));
}

/** An explanation as plain text: question, then the answer with references as `label (#seq)`. */
export function explanationText(x: Explanation): string {
  return [x.question, ...x.answer.map((s) => s.replace(REF, "$1 (#$2)"))].join("\n");
}

/** Splits an answer sentence into text and references (for renderers). */
export function answerParts(sentence: string): ({ text: string } | { ref: number; label: string })[] {
  const parts: ({ text: string } | { ref: number; label: string })[] = [];
  let last = 0;
  for (const m of sentence.matchAll(REF)) {
    if (m.index > last) parts.push({ text: sentence.slice(last, m.index) });
    parts.push({ ref: Number(m[2]), label: m[1] });
    last = m.index + m[0].length;
  }
  if (last < sentence.length) parts.push({ text: sentence.slice(last) });
  return parts;
}

const at = (e: { readonly time: number }): string => formatTime(e.time);
const evRef = (e: AnyEvent, label = at(e)): string => ref(e.seq, label);

function sessionLabel(id: string): string {
  return `session ${shortId(id)}`;
}

function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 120_000) return `${Math.round(abs / 100) / 10} s`;
  const m = Math.floor(abs / 60_000);
  const s = Math.round((abs % 60_000) / 1000);
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}

/** Capitalizes a sentence (node names like `mongos0` stay as they are). */
function sentence(s: string): string {
  const first = /^[^\s(:,.]*/.exec(s)?.[0] ?? "";
  // identifiers (mongos0, endSessions, $listSessions) keep their case
  return /^[a-z]+$/.test(first) ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

function finish(x: Omit<Explanation, "causes"> & { readonly causes?: readonly number[] }): Explanation {
  x = { ...x, answer: x.answer.map(sentence) };
  const seqs = new Set<number>(x.causes ?? []);
  for (const s of x.answer) for (const q of referencedSeqs(s)) seqs.add(q);
  seqs.delete(x.subject);
  return { ...x, causes: [...seqs].sort((p, q) => p - q) };
}

/** The refreshes of `node` in order. */
function refreshesOf(a: Analysis, node: string): RefreshFact[] {
  return a.refreshes.filter((r) => r.node === node);
}

/** The typical interval between a node's refreshes, if the trace shows two or more. */
function refreshPeriod(a: Analysis, node: string): number | undefined {
  const starts = refreshesOf(a, node).map((r) => r.start.time);
  if (starts.length < 2) return undefined;
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  return gaps.sort((p, q) => p - q)[gaps.length >> 1];
}

function refreshFailure(r: RefreshFact): string {
  const code = r.end === undefined ? undefined : (str(r.end, "codeName") ?? str(r.end, "error"));
  return code === undefined ? "failed" : `failed (${code})`;
}

function describeRemoval(c: RecordChange): string {
  if (c.kind === "expire")
    return `the TTL monitor on ${c.shard ?? "its shard"} deleted it at ${ref(c.seq, formatTime(c.time))} (expired)`;
  const who = c.by === undefined ? "a refresh" : `${c.by}'s refresh`;
  return `${who} deleted it at ${ref(c.seq, formatTime(c.time))} because the session had been ended (endSessions)`;
}

/**
 * A request carrying session `id` that `node` was running when `at` happened (delivered before it,
 * not yet answered, no crash of the node in between), if any.
 */
function runningOperation(
  a: Analysis,
  id: string,
  node: string,
  at: { readonly seq: number },
): MessageFact | undefined {
  return a.messages.find((m) => {
    const delivered = m.delivers[0];
    if (m.isReply || m.to !== node || m.lsid !== id || delivered === undefined || delivered.seq >= at.seq) return false;
    const done = m.outcome ?? m.peer?.send;
    if (done !== undefined && done.seq < at.seq) return false;
    return !a.crashes.some((c) => c.node === node && c.seq > delivered.seq && c.seq < at.seq);
  });
}

// ---- why is this session (not) in $listSessions? --------------------------------------------

/**
 * Why session `id` is (or is not) in `$listSessions` right after event `seq`: which nodes saw it,
 * whether each refreshed since, failed, or crashed first, and when its record was (or will be)
 * written.
 */
export function whyNotListed(a: Analysis, id: string, seq: number): Explanation {
  const when = a.event(seq)?.time ?? a.end;
  const s = a.sessions.get(id);
  const name = sessionLabel(id);
  const base = { session: id, subject: seq };
  if (recordExistsAt(a, id, seq)) {
    const up = lastRecordChange(a, id, seq, "upsert");
    const answer = [
      `It is: config.system.sessions holds its record, which ${up?.by === undefined ? "a refresh" : `${up.by}'s refresh`} upserted at ${up === undefined ? "?" : ref(up.seq, formatTime(up.time))}${up?.shard === undefined ? "" : ` on ${up.shard}`}.`,
      "$listSessions reads config.system.sessions, so it shows every session some node has refreshed and the TTL index has not yet expired.",
    ];
    return finish({
      ...base,
      id: `listed:${seq}:${id}`,
      kind: "listed",
      question: `Why is ${name} in $listSessions at ${formatTime(when)}?`,
      answer,
    });
  }

  const answer: string[] = [
    `$listSessions reads config.system.sessions, and at ${formatTime(when)} that collection has no record of ${name}. A command that uses a session only puts it in the in-memory session cache of the node that received it; the node writes it to config.system.sessions at its next periodic refresh.`,
  ];
  const removed = lastRecordChange(a, id, seq);
  if (removed !== undefined && removed.kind !== "upsert") {
    const up = lastRecordChange(a, id, seq, "upsert");
    answer.push(
      `Its record existed from ${up === undefined ? "?" : ref(up.seq, formatTime(up.time))}, but ${describeRemoval(removed)}.`,
    );
  }
  const seenBy = [...(s?.firstSeen.values() ?? [])].filter((e) => e.seq <= seq).sort((p, q) => p.seq - q.seq);
  if (seenBy.length === 0) answer.push(`No node had seen ${name} yet.`);
  for (const first of seenBy) {
    const node = first.node;
    const cachedAt = [...(s?.cached ?? [])].filter((e) => e.node === node && e.seq <= seq);
    const use = cachedAt[cachedAt.length - 1] ?? first;
    const verb = use.type === "session.start" ? "started it with startSession" : "first saw it";
    const since = refreshesOf(a, node).filter((r) => r.start.seq > use.seq && r.start.seq <= seq);
    const before = refreshesOf(a, node).filter((r) => r.start.seq < use.seq);
    const crash = a.crashes.find((c) => c.node === node && c.seq > use.seq && c.seq <= seq);
    const failed = since.filter((r) => r.ok === false);
    const running = since.find((r) => r.end === undefined || r.end.seq > seq);
    const ended = s?.lifecycle.find((l) => l.kind === "ended" && l.node === node && l.seq > use.seq && l.seq <= seq);
    const wroteSince = (a.records.get(id) ?? [])
      .filter((c) => c.kind === "upsert" && c.by === node && c.seq > use.seq && c.seq <= seq)
      .pop();
    let line = `${node} ${verb} at ${evRef(use)}`;
    if (wroteSince !== undefined) {
      line += `; its refresh wrote the record at ${ref(wroteSince.seq, formatTime(wroteSince.time))}, and nobody used the session on ${node} after that, so ${node}'s later refreshes did not write it again.`;
    } else if (crash !== undefined) {
      line += `, then crashed at ${evRef(crash)} before refreshing: the session was only in ${node}'s memory and was lost. It reaches config.system.sessions only if a client uses it again.`;
    } else if (ended !== undefined) {
      line += `, and it was ended by endSessions at ${ref(ended.seq, formatTime(ended.time))}: ${node}'s refresh deletes an ended session's record instead of writing it.`;
    } else if (running !== undefined) {
      line += `; its refresh started at ${evRef(running.start)} and had not written the record yet.`;
    } else if (failed.length > 0) {
      const f = failed[failed.length - 1];
      line += `; its refresh at ${evRef(f.end ?? f.start)} ${refreshFailure(f)}, so it kept the session in its cache to retry at the next refresh.`;
    } else {
      const prev = before[before.length - 1];
      line += ` and has not refreshed since${prev === undefined ? "" : ` (its previous refresh was at ${evRef(prev.start)})`}. Each node refreshes on its own timer, every logicalSessionRefreshMillis (5 minutes by default).`;
    }
    answer.push(line);
    if (crash !== undefined || ended !== undefined || wroteSince !== undefined) continue;
    // what happened next on this node
    const next = a.refreshes.find((r) => r.node === node && r.start.seq > seq);
    const crashNext = a.crashes.find(
      (c) => c.node === node && c.seq > seq && (next === undefined || c.seq < next.start.seq),
    );
    if (crashNext !== undefined)
      answer.push(
        `Then ${node} crashed at ${evRef(crashNext)} before its next refresh, and the session was lost from its cache.`,
      );
    else if (next === undefined) {
      const period = refreshPeriod(a, node);
      answer.push(
        `The run ended before ${node}'s next refresh${period === undefined ? "" : ` (it refreshes every ${duration(period)})`}; until then only $listLocalSessions on ${node} shows ${name}.`,
      );
    }
  }
  const written = (a.records.get(id) ?? []).find((c) => c.seq > seq && c.kind === "upsert");
  if (written !== undefined) {
    const by = written.by === undefined ? "a refresh" : `${written.by}'s refresh`;
    const removedLater = (a.records.get(id) ?? []).find((c) => c.seq > written.seq && c.kind !== "upsert");
    const shown =
      removedLater === undefined
        ? "from then on $listSessions shows it"
        : `$listSessions shows it from then on, until ${describeRemoval(removedLater)}`;
    // The session's end on the writing node, unless a client used it there again afterwards.
    const endedBefore = s?.lifecycle
      .filter((l) => l.kind === "ended" && l.node === written.by && l.seq < written.seq)
      .pop();
    const usedAfterEnd =
      endedBefore !== undefined &&
      (s?.cached ?? []).some((e) => e.node === written.by && e.seq > endedBefore.seq && e.seq < written.seq);
    const op =
      written.by === undefined || endedBefore === undefined || usedAfterEnd
        ? undefined
        : runningOperation(a, id, written.by, written.refresh?.start ?? written);
    if (op !== undefined && written.by !== undefined) {
      // LogicalSessionCacheImpl::_refresh upserts the lsid of every running operation
      // (ServiceLiaison::getActiveOpSessions) except those ended since the previous refresh.
      const node = written.by;
      answer.push(
        `Its record was written again at ${ref(written.seq, formatTime(written.time))} by ${by}, although the session had been ended: ${ref(op.delivers[0].seq, op.command)}, an operation in the session, was still running on ${node}. Every refresh also upserts the session of each operation running on the node (getActiveOpSessions, logical_session_cache_impl.cpp); endSessions makes only the refresh that processes it skip the session, and it does not stop the operation.`,
      );
      const finished = op.outcome ?? op.peer?.send;
      if (finished === undefined)
        answer.push(
          `The operation was still running when the run ended: each refresh of ${node} until it finishes writes the record again.`,
        );
      else {
        const lastWhileRunning = (a.records.get(id) ?? [])
          .filter((c) => c.kind === "upsert" && c.by === node && c.seq > written.seq && c.seq < finished.seq)
          .pop();
        answer.push(
          `The operation finished at ${evRef(finished)}${lastWhileRunning === undefined ? "" : `; ${node}'s refresh at ${ref(lastWhileRunning.seq, formatTime(lastWhileRunning.time))}, while it still ran, wrote the record once more`}. After that nothing brought the session back on ${node} (it had left the cache when it was ended, and nothing ran in it), so no later refresh wrote it: ${removedLater === undefined ? "the record stays until the TTL index deletes it, localLogicalSessionTimeoutMinutes (30 by default) after the lastUse of the last write" : `the record stayed until ${describeRemoval(removedLater)}`}.`,
        );
      }
    } else {
      const reused = (s?.cached ?? []).filter((e) => e.node === written.by && e.seq > seq && e.seq < written.seq)[0];
      const again =
        reused !== undefined && seenBy.some((e) => e.node === written.by)
          ? ` after a client used it again at ${evRef(reused)}`
          : "";
      answer.push(
        `Its record was written at ${ref(written.seq, formatTime(written.time))} by ${by}${again}; ${shown}.`,
      );
    }
  }
  const q = `Why is ${name} not in $listSessions at ${formatTime(when)}?`;
  return finish({ ...base, id: `notListed:${seq}:${id}`, kind: "notListed", question: q, answer });
}

// ---- why did this transaction survive the kill? ---------------------------------------------

function txnLabel(t: { readonly lsid: string; readonly txnNumber: string }): string {
  return `transaction ${t.txnNumber} of ${sessionLabel(t.lsid)}`;
}

function isTxnMessage(m: MessageFact, command: string, t: TxnFact): boolean {
  if (m.command !== command || m.isReply || m.lsid !== t.lsid) return false;
  const n = m.doc?.txnNumber;
  return n === undefined || String(n) === t.txnNumber;
}

/** Why `txn`, prepared on the kill's node, was not aborted by the kill. */
export function whySurvivedKill(a: Analysis, kill: KillFact, txn: TxnFact): Explanation {
  const k = kill.event;
  const answer: string[] = [];
  const req = kill.request;
  const sent = (m: MessageFact): string => ref(m.delivers[0]?.seq ?? m.send?.seq ?? k.seq, m.command);
  let cause = "";
  if (req !== undefined && kill.origin !== undefined)
    cause = `: ${kill.origin.from} sent ${sent(kill.origin)} to ${req.from}, which forwarded it to every shard as ${sent(req)}`;
  else if (req !== undefined) cause = `: ${req.from} sent it ${sent(req)}`;
  answer.push(
    `At ${evRef(k)} ${k.node} killed the matching sessions${cause}. A kill aborts only unprepared transactions (killSessionsAbortUnpreparedTransactions in kill_sessions_local.cpp); it interrupts running operations and closes cursors, but it skips a transaction in the Prepared state.`,
  );
  const prepared = [...txn.states].reverse().find((x) => x.state === "prepared" && x.event.seq <= k.seq);
  const prepareMsg = a.messages.find(
    (m) => m.to === txn.node && isTxnMessage(m, "prepareTransaction", txn) && (m.delivers[0]?.seq ?? Infinity) <= k.seq,
  );
  if (prepared !== undefined)
    answer.push(
      `${txnLabel(txn)} had been Prepared on ${txn.node} since ${evRef(prepared.event)}${prepareMsg === undefined ? "" : `, when ${prepareMsg.from} asked it to with ${ref(prepareMsg.delivers[0].seq, "prepareTransaction")}`}.`,
    );
  const coord = a.coordinators.find((c) => c.lsid === txn.lsid && c.txnNumber === txn.txnNumber);
  if (coord !== undefined) {
    const steps = coord.steps.filter((e) => e.seq <= k.seq);
    const last = steps[steps.length - 1];
    const step = last === undefined ? undefined : str(last, "step");
    const sending = steps.find((e) => str(e, "action") === "sendingPrepare" || str(e, "step") === "waitingForVotes");
    if (last !== undefined && step !== "waitingForVotes" && step !== "writingParticipantList")
      answer.push(
        `Its commit coordinator on ${coord.node} had completed the sendingPrepare action${sending === undefined ? "" : ` (started at ${evRef(sending)})`} and was at step ${step ?? "?"} (${evRef(last)}): that is what makes a transaction immune to the kill commands (MongoDB manual, killSessions).`,
      );
    else if (last !== undefined)
      answer.push(
        `Its commit coordinator on ${coord.node} was still at step ${step ?? "?"} (${evRef(last)}), but ${txn.node} had already voted by preparing: a Prepared participant is never aborted by a kill.`,
      );
  } else if (prepareMsg !== undefined) {
    answer.push(
      `The two-phase commit had sent prepareTransaction to ${txn.node}, so its coordinator had completed sendingPrepare — which is what makes a transaction immune to killSessions (MongoDB manual, killSessions).`,
    );
  }
  const after = txn.states.find((x) => x.event.seq > k.seq && x.state !== "prepared");
  const unprepared = kill.event.abortedTransactions;
  if (typeof unprepared === "number" && unprepared > 0)
    answer.push(
      `The same kill aborted ${unprepared} unprepared transaction${unprepared === 1 ? "" : "s"} on ${k.node}: the difference is the Prepared state, not the session.`,
    );
  if (after !== undefined)
    answer.push(`Only the coordinator's decision ends it: it became ${after.state} at ${evRef(after.event)}.`);
  else
    answer.push(
      "It was still prepared when the run ended: only the coordinator's decision (commit or abort) can end it.",
    );
  return finish({
    id: `survivedKill:${k.seq}:${txn.lsid}:${txn.txnNumber}`,
    kind: "survivedKill",
    question: `Why did ${txnLabel(txn)} survive the kill on ${k.node} at ${at(k)}?`,
    answer,
    subject: k.seq,
    causes: [k.seq, ...(prepared === undefined ? [] : [prepared.event.seq])],
    session: txn.lsid,
    node: k.node,
  });
}

// ---- why was this cursor killed? -------------------------------------------------------------

/** Why the cursor closed by `close` (a `cursor.close` event) was killed; undefined for normal closes. */
export function whyCursorKilled(a: Analysis, close: AnyEvent): Explanation | undefined {
  const reason = str(close, "reason") ?? "";
  const id = lsidOf(close.lsid);
  const node = close.node;
  const cursor = `cursor ${str(close, "cursorId") ?? "?"}`;
  const answer: string[] = [];
  const causes: number[] = [];
  const open = a.events.find(
    (e) =>
      e.type === "cursor.open" && e.node === node && e.seq < close.seq && str(e, "cursorId") === str(close, "cursorId"),
  );
  if (open !== undefined) causes.push(open.seq);
  const refresh = [...a.refreshes].reverse().find((r) => r.node === node && r.start.seq <= close.seq);
  const sessionPart = id === undefined ? "its session" : sessionLabel(id);
  switch (reason) {
    case "sessionEnded": {
      const end =
        id === undefined
          ? undefined
          : a.sessions
              .get(id)
              ?.lifecycle.filter((l) => l.kind === "ended" && l.node === node && l.seq < close.seq)
              .pop();
      answer.push(
        `${sessionPart} was ended with endSessions on ${node}${end === undefined ? "" : ` at ${ref(end.seq, formatTime(end.time))}`}. endSessions only queues the end: nothing happens until the node's next refresh.`,
      );
      if (refresh !== undefined)
        answer.push(
          `${node}'s refresh at ${evRef(refresh.start)} deleted the session's record and killed ${node}'s cursors of that session — ${cursor} among them.`,
        );
      break;
    }
    case "sessionExpired": {
      answer.push(
        `At each refresh a node asks config.system.sessions about the sessions that own its open cursors, and kills the cursors whose session has no record any more.`,
      );
      if (refresh !== undefined) {
        const lookup = refresh.lookups[0];
        answer.push(
          `${node}'s refresh at ${evRef(refresh.start)}${lookup === undefined || lookup.send === undefined ? "" : ` looked ${sessionPart} up (${evRef(lookup.send, "find")})`} and found no record, so it killed ${cursor}.`,
        );
      }
      if (id !== undefined) {
        const last = lastRecordChange(a, id, close.seq);
        if (last === undefined)
          answer.push(
            `The record had never been written: no node that saw ${sessionPart} refreshed it (a crash before the refresh, or a refresh that failed).`,
          );
        else if (last.kind !== "upsert") answer.push(`The record was gone because ${describeRemoval(last)}.`);
        if (last?.kind === "expire") {
          const up = lastRecordChange(a, id, close.seq, "upsert");
          if (up !== undefined)
            answer.push(
              `An open cursor does not keep its session alive: only using the session does. Its last refresh was at ${ref(up.seq, formatTime(up.time))}.`,
            );
        }
      }
      break;
    }
    case "killSessions": {
      const kill = [...a.kills].reverse().find((k) => k.event.node === node && k.event.seq <= close.seq);
      const req =
        kill?.request ??
        [...a.messages]
          .reverse()
          .find(
            (m) =>
              m.to === node &&
              KILL_COMMANDS.has(m.command) &&
              !m.isReply &&
              (m.delivers[0]?.seq ?? Infinity) <= close.seq,
          );
      answer.push(
        `${req === undefined ? "A kill command" : `${ref(req.delivers[0]?.seq ?? close.seq, req.command)} from ${req.from}`} matched ${sessionPart} on ${node}. Killing a session interrupts its operations, aborts its unprepared transactions and closes its cursors${kill === undefined ? "" : ` (${evRef(kill.event, "the local kill")})`}.`,
      );
      if (req !== undefined && a.nodes.some((n) => n.startsWith("mongos")) && req.from.startsWith("mongos"))
        answer.push(
          `${req.from} forwards every kill to all shards as killAllSessionsByPattern, so the shards' cursors die too.`,
        );
      answer.push(
        "The session itself survives a kill: it stays in the caches and in config.system.sessions and can be used again.",
      );
      break;
    }
    default:
      return undefined;
  }
  return finish({
    id: `cursorKilled:${close.seq}`,
    kind: "cursorKilled",
    question: `Why was ${cursor} on ${node} killed at ${at(close)}?`,
    answer,
    subject: close.seq,
    causes,
    ...(id === undefined ? {} : { session: id }),
    node,
  });
}

// ---- why did this record expire? -------------------------------------------------------------

/** The session timeout in minutes: a `param.set` of localLogicalSessionTimeoutMinutes, else 30. */
function timeoutMinutes(a: Analysis): number {
  for (const e of a.events)
    if (e.type === "param.set" && e.name === "localLogicalSessionTimeoutMinutes" && typeof e.value === "number")
      return e.value;
  return 30;
}

/** Why the record of session `id` was deleted by `expire` (a `ttl.expire` event). */
export function whyRecordExpired(a: Analysis, expire: AnyEvent, id: string): Explanation {
  const minutes = timeoutMinutes(a);
  const up = lastRecordChange(a, id, expire.seq, "upsert");
  const answer: string[] = [];
  const name = sessionLabel(id);
  if (up === undefined) {
    answer.push(
      `The trace does not show when ${name}'s record was written; it was removed by the TTL index at ${evRef(expire)}.`,
    );
  } else {
    const deadline = up.time + minutes * 60_000;
    answer.push(
      `${up.by === undefined ? "A refresh" : `${up.by}'s refresh`} upserted the record at ${ref(up.seq, formatTime(up.time))}: that set its lastUse to ${up.shard === undefined ? "the shard" : up.shard}'s clock, ${formatTime(up.time)}. It was the last refresh by any node that included ${name}.`,
    );
    const uses = (a.sessions.get(id)?.uses ?? []).filter((e) => e.seq < expire.seq);
    const cached = (a.sessions.get(id)?.cached ?? []).filter((e) => e.seq < expire.seq);
    const lastUse = [...uses, ...cached].sort((p, q) => p.seq - q.seq).pop();
    const op = up.by === undefined ? undefined : runningOperation(a, id, up.by, up.refresh?.start ?? up);
    const finished = op?.outcome ?? op?.peer?.send;
    const endedFirst = (a.sessions.get(id)?.lifecycle ?? []).some(
      (l) => l.kind === "ended" && l.node === up.by && l.seq < up.seq,
    );
    if (op !== undefined)
      answer.push(
        `That refresh wrote it because ${ref(op.delivers[0].seq, op.command)}, an operation in the session, was still running on ${up.by ?? "the node"}: a refresh upserts the session of every operation running on the node (getActiveOpSessions, logical_session_cache_impl.cpp)${endedFirst ? ", even an ended one" : ""}${finished === undefined ? "" : `. The operation finished at ${evRef(finished)}, and no node used the session after that, so no later refresh upserted it`}.`,
      );
    else if (lastUse !== undefined)
      answer.push(
        `The session was last used at ${evRef(lastUse)} on ${lastUse.node}; no node used it again, so no later refresh upserted it.`,
      );
    answer.push(
      `The TTL index lsidTTLIndex deletes a record ${minutes} minutes (localLogicalSessionTimeoutMinutes) after its lastUse: from ${formatTime(deadline)} on.`,
    );
    const monitor = [...a.events]
      .reverse()
      .find((e) => e.type === "timer.fire" && e.node === expire.node && e.seq < expire.seq && e.time === expire.time);
    answer.push(
      `The TTL monitor on ${expire.node}, which runs every 60 seconds, deleted it at ${evRef(monitor ?? expire)}${expire.time > deadline ? `, ${duration(expire.time - deadline)} after that` : ""}.`,
    );
  }
  return finish({
    id: `recordExpired:${expire.seq}:${id}`,
    kind: "recordExpired",
    question: `Why did ${name}'s record expire at ${at(expire)}?`,
    answer,
    subject: expire.seq,
    causes: up === undefined ? [] : [up.seq],
    session: id,
    node: expire.node,
  });
}

// ---- everything a report explains ------------------------------------------------------------

/** Options of `explainAll`. */
export interface ExplainOptions {
  /** At most this many explanations (default 400). */
  readonly limit?: number;
}

/**
 * The explanations a report offers: for each session, why it is not in `$listSessions` yet right
 * after its first use and at each `$listSessions` that missed it; for each kill, why each prepared
 * transaction survived; for each cursor killed because of its session, why; for each expired
 * record, why.
 */
export function explainAll(a: Analysis, options: ExplainOptions = {}): Explanation[] {
  const limit = options.limit ?? 400;
  const out: Explanation[] = [];
  for (const s of a.sessions.values()) {
    const first = [...s.firstSeen.values()].sort((p, q) => p.seq - q.seq)[0];
    if (first !== undefined && !recordExistsAt(a, s.id, first.seq)) out.push(whyNotListed(a, s.id, first.seq));
    let asked = 0;
    for (const m of a.listSessionsRequests) {
      const d = m.delivers[0];
      if (d === undefined || first === undefined || d.seq < first.seq || asked >= 3) continue;
      if (recordExistsAt(a, s.id, d.seq)) continue;
      out.push(whyNotListed(a, s.id, d.seq));
      asked++;
    }
  }
  for (const k of a.kills) for (const t of k.prepared) out.push(whySurvivedKill(a, k, t));
  for (const c of a.cursorCloses) {
    const x = whyCursorKilled(a, c);
    if (x !== undefined) out.push(x);
  }
  for (const e of a.ttlExpires) {
    if (str(e, "ns") !== undefined && str(e, "ns") !== "config.system.sessions") continue;
    for (const v of Array.isArray(e.ids) ? (e.ids as unknown[]) : []) {
      const id = lsidOf(v);
      if (id !== undefined) out.push(whyRecordExpired(a, e, id));
    }
  }
  return out.sort((p, q) => p.subject - q.subject).slice(0, limit);
}

/** Explanations of a trace (see `explainAll`). */
export function explain(trace: readonly EventLike[], options?: ExplainOptions): Explanation[] {
  return explainAll(analyze(trace), options);
}
