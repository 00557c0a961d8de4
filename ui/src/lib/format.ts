// Placeholder filling, kept free of Svelte so unit tests can import it directly.
import { en, zhCN, type MessageKey } from "./messages";

export type Locale = "zh-CN" | "en";
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];

const dictionaries: Record<Locale, Record<MessageKey, string>> = { "zh-CN": zhCN, en };

export type Params = Record<string, string | number>;

/**
 * The text of `key` in `locale`, with each `{name}` replaced; an unknown `{name}` stays visible.
 * `{name:unit}` is a count with its unit: `{n:article}` reads "1 article" / "3 articles",
 * `{n:entry|entries}` names both forms, `{n:篇}` reads "3 篇" (Chinese has one form).
 */
export function format(locale: Locale, key: MessageKey, params: Params = {}): string {
  return dictionaries[locale][key].replace(/\{(\w+)(?::([^}]+))?\}/g, (whole, name: string, unit?: string) => {
    if (!(name in params)) return whole;
    const value = params[name];
    if (unit === undefined) return String(value);
    return `${value} ${counted(Number(value), unit)}`;
  });
}

/** The form of `unit` that goes with `n`: `one|other`, or an English noun that takes "s". */
export function counted(n: number, unit: string): string {
  const [one, other] = unit.split("|");
  if (other !== undefined) return n === 1 ? (one ?? "") : other;
  if (/[\u4e00-\u9fff]/.test(unit)) return unit;
  return n === 1 ? unit : `${unit}s`;
}

export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)(?::[^}]+)?\}/g)].map((m) => m[1] ?? "").sort();
}

export function dictionary(locale: Locale): Record<MessageKey, string> {
  return dictionaries[locale];
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A local calendar date in the UI's language: 2026年11月25日 / 2026-11-25. */
export function formatDate(locale: Locale, d: Date): string {
  return locale === "zh-CN"
    ? `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local date and time in the UI's language: 2026年11月25日 20:35 / 2026-11-25 20:35. */
/** A Unix time as a local calendar date. */
export function formatUnixDate(locale: Locale, unix: number): string {
  return formatDate(locale, new Date(unix * 1000));
}

export function formatTime(locale: Locale, unix: number): string {
  const d = new Date(unix * 1000);
  return `${formatDate(locale, d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** As `formatTime`, with seconds (the activity log orders events within a minute). */
export function formatTimeSeconds(locale: Locale, unix: number): string {
  const d = new Date(unix * 1000);
  return `${formatTime(locale, unix)}:${pad(d.getSeconds())}`;
}

/** An ISO date (YYYY-MM-DD) as the UI shows it. */
export function isoToDisplay(locale: Locale, iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? formatDate(locale, new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : "";
}

/**
 * A date as operators type it, in either language's form — 2026-11-25, 2026/11/25, 2026.11.25,
 * 2026年11月25日, 20261125 — as an ISO date; `null` when it is no real calendar date.
 */
export function parseDate(text: string): string | null {
  const s = text.trim();
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(y, mo - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return null;
  return `${y}-${pad(mo)}-${pad(d)}`;
}

/**
 * A time of day as operators type it — 0:00, 09:30, 9.30, 0930, 21点, 9点30分 — as "HH:MM";
 * `null` when it is no time of day.
 */
export function parseClock(text: string): string | null {
  const s = text.trim().replace("：", ":");
  const m = /^(\d{1,2})\s*[:.点]\s*(\d{2})\s*分?$/.exec(s) ?? /^(\d{2})(\d{2})$/.exec(s) ?? /^(\d{1,2})\s*点?$/.exec(s);
  if (!m) return null;
  const [h, min] = [Number(m[1]), Number(m[2] ?? 0)];
  if (h > 23 || min > 59) return null;
  return `${pad(h)}:${pad(min)}`;
}

/** Unix seconds of an ISO date and "HH:MM" on this computer's clock; `null` if either is bad. */
export function localUnix(isoDate: string, clock: string): number | null {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const c = /^(\d{2}):(\d{2})$/.exec(clock);
  if (!d || !c) return null;
  const at = new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(c[1]), Number(c[2]));
  return Number.isNaN(at.getTime()) ? null : Math.floor(at.getTime() / 1000);
}

/**
 * A time as Beijing's clock shows it ("12/4 0:00"), or `null` when this computer's clock is on
 * Beijing time already (then the local time says it).
 */
export function beijingClock(unix: number): string | null {
  if (-new Date(unix * 1000).getTimezoneOffset() === 480) return null;
  const bj = beijingWall(unix * 1000);
  return `${bj.getUTCMonth() + 1}/${bj.getUTCDate()} ${bj.getUTCHours()}:${pad(bj.getUTCMinutes())}`;
}

/** Beijing's wall clock (UTC+8, no daylight saving) at `ms`, to be read with the getUTC* methods. */
export function beijingWall(ms: number): Date {
  return new Date(ms + 8 * 3600_000);
}
