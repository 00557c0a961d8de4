// How the confirmation shows a plan: its requests grouped by message (what goes, what stays),
// and — when the plan needs more than one quota day — by the Beijing day each request can go.
// Pure functions of the plan, so their rules are tested on their own.
import type { ArticleRow, PlanTarget } from "../bindings";
import { beijingWall } from "./format";

export type MessageGroup = {
  articleId: string;
  publishTime: number;
  /** The whole message goes in one request. */
  whole: boolean;
  /** The items that go. */
  items: ArticleRow[];
  /** The requests, in plan order (one for a whole message, one per item otherwise). */
  targets: PlanTarget[];
  /** How many items of the message stay (live or not, everything not named here). */
  staying: number;
  /** Requests this message takes. */
  requests: number;
};

/** Targets of the same message together, in the plan's order of first appearance. */
export function byMessage(targets: PlanTarget[]): MessageGroup[] {
  const groups: MessageGroup[] = [];
  const at = new Map<string, MessageGroup>();
  for (const t of targets) {
    let g = at.get(t.articleId);
    if (!g) {
      g = { articleId: t.articleId, publishTime: t.publishTime, whole: false, items: [], targets: [], staying: 0, requests: 0 };
      at.set(t.articleId, g);
      groups.push(g);
    }
    g.whole ||= t.index === null;
    g.items.push(...t.items);
    g.targets.push(t);
    g.requests += 1;
  }
  for (const g of groups) {
    const count = Math.max(0, ...g.items.map((i) => i.itemCount));
    g.items.sort((a, b) => a.index - b.index);
    g.staying = g.whole ? 0 : Math.max(0, count - g.items.length);
  }
  return groups;
}

export type DayShare = { day: number; targets: PlanTarget[] };

/**
 * Which requests go on which quota day: today's remaining quota first, then `limit` a day.
 * `null` when the plan fits today or the quota could not be read.
 */
export function byDay(targets: PlanTarget[], remain: number | null, limit: number | null): DayShare[] | null {
  if (remain === null || limit === null || limit <= 0 || targets.length <= remain) return null;
  const days: DayShare[] = [];
  let i = 0;
  let day = 0;
  let room = remain;
  while (i < targets.length) {
    const take = targets.slice(i, i + room);
    if (take.length > 0) days.push({ day, targets: take });
    i += take.length;
    day += 1;
    room = limit;
  }
  return days;
}

/** The Beijing calendar date `days` after today's (quota days begin at 0:00 Beijing time). */
export function beijingDate(nowMs: number, days: number): { month: number; day: number } {
  const d = beijingWall(nowMs + days * 86400_000);
  return { month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
