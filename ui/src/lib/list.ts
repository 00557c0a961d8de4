// Small rules of the article list, kept out of the component so they are tested alone:
// where a cover loads from, how a search hit is marked, what a date preset means.

/** The `cover:` address of a cover (`account/article/item`); Windows' WebView2 spells it http. */
export function coverUrl(path: string): string {
  const windows = globalThis.navigator?.userAgent?.includes("Windows") ?? false;
  return windows ? `http://cover.localhost/${path}` : `cover://localhost/${path}`;
}

export type Part = { text: string; hit: boolean };

/** `text` cut into the parts that match `query` (case-insensitive) and the parts between. */
export function highlight(text: string, query: string | null): Part[] {
  const q = (query ?? "").trim().toLowerCase();
  if (q === "") return [{ text, hit: false }];
  const lower = text.toLowerCase();
  // Lower-casing can change a string's length (rare letters): then mark nothing rather than
  // mark the wrong characters.
  if (lower.length !== text.length) return [{ text, hit: false }];
  const parts: Part[] = [];
  let at = 0;
  for (let found = lower.indexOf(q); found !== -1; found = lower.indexOf(q, at)) {
    if (found > at) parts.push({ text: text.slice(at, found), hit: false });
    parts.push({ text: text.slice(found, found + q.length), hit: true });
    at = found + q.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), hit: false });
  return parts;
}

export type Preset = "7d" | "30d" | "thisMonth" | "lastMonth" | "custom";

const pad = (n: number) => String(n).padStart(2, "0");
const iso = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/**
 * The from/to dates (ISO, both inclusive, on this computer's calendar) a preset stands for,
 * as of `now`; `null` for 自定义 (the fields are the operator's).
 */
export function presetRange(preset: Preset, now: Date): { from: string; to: string } | null {
  const y = now.getFullYear();
  const m = now.getMonth();
  const today = new Date(y, m, now.getDate());
  switch (preset) {
    case "7d":
      return { from: iso(new Date(y, m, now.getDate() - 6)), to: iso(today) };
    case "30d":
      return { from: iso(new Date(y, m, now.getDate() - 29)), to: iso(today) };
    case "thisMonth":
      return { from: iso(new Date(y, m, 1)), to: iso(today) };
    case "lastMonth":
      return { from: iso(new Date(y, m - 1, 1)), to: iso(new Date(y, m, 0)) };
    case "custom":
      return null;
  }
}
