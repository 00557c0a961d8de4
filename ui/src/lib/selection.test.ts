import { describe, expect, it } from "vitest";
import type { ArticleRow } from "../bindings";
import { ArticleSelection } from "./selection.svelte";

function row(articleId: string, index: number, itemCount: number, isDeleted = false): ArticleRow {
  return { articleId, index, itemCount, title: `${articleId}-${index}`, author: "", digest: "", url: "", publishTime: 0, isDeleted, deletedAt: null, hasCover: false };
}

describe("the article selection", () => {
  it("counts items and whole messages as articles and requests", () => {
    const s = new ArticleSelection();
    s.toggleItem(row("A", 1, 2));
    s.toggleItem(row("B", 2, 3));
    expect(s.counts).toEqual({ articles: 2, requests: 2 });
    s.toggleWhole(row("C", 1, 4));
    expect(s.counts).toEqual({ articles: 6, requests: 3 });
    s.toggleItem(row("A", 1, 2));
    expect(s.counts).toEqual({ articles: 5, requests: 2 });
  });

  it("lets a whole message absorb its items and refuse new ones", () => {
    const s = new ArticleSelection();
    s.toggleItem(row("A", 1, 3));
    s.toggleItem(row("A", 2, 3));
    s.toggleWhole(row("A", 1, 3));
    expect(s.toSelections()).toEqual([{ kind: "wholeMessage", articleId: "A" }]);
    s.toggleItem(row("A", 3, 3));
    expect(s.isSelected(row("A", 3, 3))).toBe(true);
    expect(s.counts.requests).toBe(1);
    s.toggleWhole(row("A", 1, 3));
    expect(s.toSelections()).toEqual([]);
  });

  it("takes a rule's picks in place of what was ticked, whole messages counting their live articles", () => {
    const s = new ArticleSelection();
    s.toggleItem(row("Z", 1, 1));
    s.replaceWith([
      { selection: { kind: "wholeMessage", articleId: "A" }, articles: 2 },
      { selection: { kind: "item", articleId: "B", index: 3 }, articles: 1 },
    ]);
    expect(s.counts).toEqual({ articles: 3, requests: 2 });
    expect(s.isSelected(row("Z", 1, 1))).toBe(false);
    expect(s.isWhole("A")).toBe(true);
    expect(s.toSelections()).toEqual([
      { kind: "wholeMessage", articleId: "A" },
      { kind: "item", articleId: "B", index: 3 },
    ]);
    s.chooseWhole("B", 4);
    expect(s.counts).toEqual({ articles: 6, requests: 2 });
  });

  it("never ticks an article that is already deleted", () => {
    const s = new ArticleSelection();
    s.toggleItem(row("A", 1, 1, true));
    expect(s.counts.requests).toBe(0);
  });

  it("hands plan_deletion whole messages first, then items, and clears", () => {
    const s = new ArticleSelection();
    s.toggleItem(row("B", 2, 2));
    s.toggleWhole(row("A", 1, 2));
    expect(s.toSelections()).toEqual([
      { kind: "wholeMessage", articleId: "A" },
      { kind: "item", articleId: "B", index: 2 },
    ]);
    s.clear();
    expect(s.counts).toEqual({ articles: 0, requests: 0 });
  });
});
