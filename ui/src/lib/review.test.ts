import { describe, expect, it } from "vitest";
import type { ArticleRow, PlanTarget } from "../bindings";
import { beijingDate, byDay, byMessage } from "./review";

const row = (articleId: string, index: number, itemCount: number): ArticleRow => ({
  articleId, index, itemCount, title: `${articleId}-${index}`, author: "", digest: "", url: "", publishTime: 1, isDeleted: false, deletedAt: null, hasCover: false,
});
const item = (seq: number, id: string, index: number, count: number): PlanTarget => ({ seq, articleId: id, index, items: [row(id, index, count)], publishTime: 1 });
const whole = (seq: number, id: string, count: number): PlanTarget => ({
  seq, articleId: id, index: null, items: Array.from({ length: count }, (_, i) => row(id, i + 1, count)), publishTime: 1,
});

describe("a plan by message", () => {
  it("puts items of one message together and counts what stays", () => {
    const groups = byMessage([item(1, "A", 3, 4), whole(2, "B", 2), item(3, "A", 1, 4)]);
    expect(groups.map((g) => g.articleId)).toEqual(["A", "B"]);
    expect(groups[0]?.items.map((i) => i.index)).toEqual([1, 3]);
    expect(groups[0]?.staying).toBe(2);
    expect(groups[0]?.requests).toBe(2);
    expect(groups[1]?.whole).toBe(true);
    expect(groups[1]?.staying).toBe(0);
  });
});

describe("a plan by quota day", () => {
  const ts = Array.from({ length: 23 }, (_, i) => item(i + 1, `M${i}`, 1, 1));
  it("fills today's remainder, then a full day each", () => {
    const days = byDay(ts, 3, 10);
    expect(days?.map((d) => [d.day, d.targets.length])).toEqual([[0, 3], [1, 10], [2, 10]]);
  });
  it("starts tomorrow when nothing is left today", () => {
    expect(byDay(ts.slice(0, 12), 0, 10)?.map((d) => [d.day, d.targets.length])).toEqual([[1, 10], [2, 2]]);
  });
  it("says nothing when the plan fits today or the quota is unknown", () => {
    expect(byDay(ts.slice(0, 3), 3, 10)).toBeNull();
    expect(byDay(ts, null, 10)).toBeNull();
  });
  it("counts days in Beijing: 23:59 Beijing on the 3rd is still the 3rd, 0:00 is the 4th", () => {
    const lateOn3rd = Date.UTC(2026, 11, 3, 15, 59); // 23:59 Beijing
    expect(beijingDate(lateOn3rd, 0)).toEqual({ month: 12, day: 3 });
    expect(beijingDate(lateOn3rd, 1)).toEqual({ month: 12, day: 4 });
    expect(beijingDate(Date.UTC(2026, 11, 3, 16, 0), 0)).toEqual({ month: 12, day: 4 });
    expect(beijingDate(Date.UTC(2026, 11, 31, 16, 0), 0)).toEqual({ month: 1, day: 1 });
  });
});
