// Placeholder filling, kept free of Svelte so unit tests can import it directly.
import { en, zhCN, type MessageKey } from "./messages";

export type Locale = "zh-CN" | "en";
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];

const dictionaries: Record<Locale, Record<MessageKey, string>> = { "zh-CN": zhCN, en };

export type Params = Record<string, string | number>;

/** The text of `key` in `locale`, with each `{name}` replaced; an unknown `{name}` stays visible. */
export function format(locale: Locale, key: MessageKey, params: Params = {}): string {
  return dictionaries[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? "").sort();
}

export function dictionary(locale: Locale): Record<MessageKey, string> {
  return dictionaries[locale];
}

/** Local date and time as YYYY-MM-DD HH:MM: unambiguous in both locales. */
export function formatTime(unix: number): string {
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
