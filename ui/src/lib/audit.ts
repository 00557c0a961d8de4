// The activity log as sentences: each event's JSON detail (as Rust wrote it) read into one
// sentence in the UI's language, and how it ended. Pure, so every action's wording is tested.
import type { AuditAction, AuditEvent } from "../bindings";
import type { MessageKey } from "./messages";

export type Said = { key: MessageKey; params: Record<string, string | number>; result: "ok" | "problem" | "info" };

export type Kind = "all" | "deletes" | "plans" | "syncs" | "accounts" | "other";

const KIND: Record<AuditAction, Exclude<Kind, "all">> = {
  delete_request: "deletes",
  plan_executed: "deletes",
  reconciled: "deletes",
  operator_decided: "deletes",
  plan_created: "plans",
  plan_confirmed: "plans",
  plan_cancelled: "plans",
  queue_cancelled: "plans",
  sync: "syncs",
  account_added: "accounts",
  account_removed: "accounts",
  quota_cleared: "other",
  observed: "other",
  draft_restored: "other",
  draft_restore_failed: "other",
  unknown: "other",
};

export function kindOf(action: AuditAction): Exclude<Kind, "all"> {
  return KIND[action];
}

type Detail = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const text = (v: unknown): string => (typeof v === "string" ? v : "");
const titles = (d: Detail): string => (Array.isArray(d.titles) ? d.titles.filter((x) => typeof x === "string").join(" / ") : "");

/** The sentence for one event; an unreadable detail still gets the action's own sentence. */
export function sentence(e: AuditEvent): Said {
  let d: Detail = {};
  try {
    const parsed: unknown = JSON.parse(e.detail);
    if (parsed && typeof parsed === "object") d = parsed as Detail;
  } catch {
    d = {};
  }
  switch (e.action) {
    case "account_added":
      return { key: "audit.say.accountAdded", params: { appid: text(d.appid) }, result: "info" };
    case "account_removed":
      return { key: "audit.say.accountRemoved", params: { appid: text(d.appid) }, result: "info" };
    case "sync":
      return d.cancelled === true
        ? { key: "audit.say.syncCancelled", params: { pages: num(d.pages) }, result: "info" }
        : { key: "audit.say.sync", params: { pages: num(d.pages), messages: num(d.messages), fresh: num(d.new) }, result: d.incomplete === true ? "problem" : "ok" };
    case "plan_created":
      return { key: "audit.say.planCreated", params: { articles: num(d.articles), requests: num(d.requests) }, result: "info" };
    case "plan_confirmed":
      return typeof d.not_before === "number"
        ? { key: "audit.say.planScheduled", params: { at: d.not_before }, result: "info" }
        : { key: d.released_late === true ? "audit.say.planReleasedLate" : "audit.say.planConfirmed", params: {}, result: "info" };
    case "plan_cancelled":
      return { key: "audit.say.planCancelled", params: {}, result: "info" };
    case "plan_executed": {
      const results = Array.isArray(d.results) ? d.results : [];
      const deleted = results.filter((r) => Array.isArray(r) && r[1] === "deleted").length;
      return {
        key: "audit.say.planExecuted",
        params: { deleted, other: results.length - deleted },
        result: d.stopped ? "problem" : "ok",
      };
    }
    case "delete_request": {
      const code = num(d.errcode);
      if (code === 0) return { key: "audit.say.deleted", params: { titles: titles(d) }, result: "ok" };
      if (code === -2) return { key: "audit.say.deleteNoAnswer", params: { titles: titles(d) }, result: "problem" };
      return { key: "audit.say.deleteRefused", params: { titles: titles(d), code }, result: "problem" };
    }
    case "reconciled":
      return { key: d.now === "done" ? "audit.say.reconciledDone" : "audit.say.reconciled", params: {}, result: d.now === "done" ? "ok" : "info" };
    case "queue_cancelled":
      return { key: "audit.say.queueCancelled", params: { count: num(d.cancelled) }, result: "info" };
    case "quota_cleared":
      return num(d.errcode) === 0
        ? { key: "audit.say.quotaCleared", params: {}, result: "ok" }
        : { key: "audit.say.quotaClearFailed", params: { code: num(d.errcode) }, result: "problem" };
    case "observed":
      return { key: "audit.say.observed", params: {}, result: "info" };
    case "draft_restored":
      return { key: "audit.say.draftRestored", params: { articles: num(d.articles) }, result: "ok" };
    case "draft_restore_failed":
      return { key: "audit.say.draftRestoreFailed", params: {}, result: "problem" };
    case "operator_decided":
      return {
        key: d.decision === "gone" ? "audit.say.decidedGone" : d.decision === "sendAgain" ? "audit.say.decidedSendAgain" : "audit.say.decidedGiveUp",
        params: { titles: titles(d) },
        result: "info",
      };
    case "unknown":
      return { key: "audit.say.unknown", params: {}, result: "info" };
  }
}

export type AwayLine = { id: number; deleted: number; problems: number };

/** Delete requests per account in `events`: how many went through, how many did not. */
export function awaySummary(events: AuditEvent[]): AwayLine[] {
  const by = new Map<number, AwayLine>();
  for (const e of events) {
    if (e.action !== "delete_request" || e.accountId === null) continue;
    const line = by.get(e.accountId) ?? { id: e.accountId, deleted: 0, problems: 0 };
    if (e.errcode === 0) line.deleted += 1;
    else line.problems += 1;
    by.set(e.accountId, line);
  }
  return [...by.values()];
}
