// What the operator ticked in the article list: single items, or whole messages (a louder
// choice that absorbs the items of that message). Kept out of the component so its rules are
// tested on their own.
import { SvelteMap } from "svelte/reactivity";
import type { ArticleRow, Pick, Selection } from "../bindings";

const key = (r: { articleId: string; index: number }) => `${r.articleId}#${r.index}`;

export class ArticleSelection {
  #items = new SvelteMap<string, { articleId: string; index: number }>();
  #wholes = new SvelteMap<string, number>();

  /** Articles that would go, and the delete requests that costs (one per item or message). */
  counts = $derived({
    articles: this.#items.size + [...this.#wholes.values()].reduce((a, b) => a + b, 0),
    requests: this.#items.size + this.#wholes.size,
  });

  isWhole(articleId: string): boolean {
    return this.#wholes.has(articleId);
  }

  /** Some single items of this message are ticked. */
  hasItemsOf(articleId: string): boolean {
    for (const k of this.#items.keys()) if (k.startsWith(`${articleId}#`)) return true;
    return false;
  }

  isSelected(row: ArticleRow): boolean {
    return this.#wholes.has(row.articleId) || this.#items.has(key(row));
  }

  /** Ticks or unticks one item; an item of a message chosen whole cannot be ticked alone. */
  toggleItem(row: ArticleRow): void {
    if (row.isDeleted || this.#wholes.has(row.articleId)) return;
    if (this.#items.has(key(row))) this.#items.delete(key(row));
    else this.#items.set(key(row), { articleId: row.articleId, index: row.index });
  }

  /** Chooses or drops a whole message; choosing it absorbs its single items. */
  toggleWhole(row: ArticleRow): void {
    if (this.#wholes.has(row.articleId)) {
      this.#wholes.delete(row.articleId);
      return;
    }
    this.#wholes.set(row.articleId, row.itemCount);
    for (const k of [...this.#items.keys()]) if (k.startsWith(`${row.articleId}#`)) this.#items.delete(k);
  }

  /** Chooses a whole message of `articles` live articles (absorbing its single items). */
  chooseWhole(articleId: string, articles: number): void {
    this.#wholes.set(articleId, articles);
    for (const k of [...this.#items.keys()]) if (k.startsWith(`${articleId}#`)) this.#items.delete(k);
  }

  /** Replaces the selection with a rule's picks (as `select_matching` returns them). */
  replaceWith(picks: Pick[]): void {
    this.clear();
    for (const p of picks) {
      if (p.selection.kind === "wholeMessage") this.chooseWhole(p.selection.articleId, p.articles);
      else this.#items.set(key(p.selection), { articleId: p.selection.articleId, index: p.selection.index });
    }
  }

  clear(): void {
    this.#items.clear();
    this.#wholes.clear();
  }

  /** What `plan_deletion` takes: whole messages first, then items. */
  toSelections(): Selection[] {
    return [
      ...[...this.#wholes.keys()].map((articleId) => ({ kind: "wholeMessage" as const, articleId })),
      ...[...this.#items.values()].map((s) => ({ kind: "item" as const, ...s })),
    ];
  }
}
