// Instant, localized hints for the wizard's fields. Rust checks the same rules again and is
// the authority; these only spare the user a round trip and speak their language.
import type { MessageKey } from "./messages";

// An alternation, not a character class: U+200D inside a class reads as a joined sequence.
const INVISIBLE = /\u200B|\u200C|\u200D|\u2060|\uFEFF|\u00AD/g;

/** What Rust will use: zero-width characters dropped, ends trimmed. */
export function cleaned(raw: string): string {
  return raw.replace(INVISIBLE, "").replace(/[\u00A0\u3000]/g, " ").trim();
}

export function hadInvisible(raw: string): boolean {
  return cleaned(raw) !== raw.replace(/[\u00A0\u3000]/g, " ").trim();
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

export function checkAppId(raw: string): MessageKey | null {
  const v = cleaned(raw);
  if (v === "") return "field.appid.empty";
  if (CONTROL.test(v)) return "field.control";
  return /^wx[0-9a-fA-F]{16}$/.test(v) ? null : "field.appid.shape";
}

export function checkSecret(raw: string): MessageKey | null {
  const v = cleaned(raw);
  if (v === "") return "field.secret.empty";
  if (CONTROL.test(v)) return "field.control";
  return /^[0-9a-fA-F]{32}$/.test(v) ? null : "field.secret.shape";
}

export function checkUrl(raw: string, { allowHttp = false } = {}): MessageKey | null {
  const v = cleaned(raw);
  if (v === "") return null;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return "field.url.invalid";
  }
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) || url.hostname.startsWith("127.");
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && (allowHttp || loopback)) return null;
  return "field.url.https";
}

/** Full-width digits (typed with a Chinese input method) count as ASCII digits. */
export function normalizePhrase(typed: string): string {
  return typed.trim().replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}
