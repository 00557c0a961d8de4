// The current locale as Svelte state: every `t(...)` in a template re-renders on a switch.
// zh-CN is the default; the choice is remembered on this computer.
import { beijingClock, format, formatTime, formatTimeSeconds, formatUnixDate, LOCALES, type Locale, type Params } from "./format";
import type { MessageKey } from "./messages";

const STORAGE_KEY = "retract.locale";

function initial(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return LOCALES.find((l) => l === saved) ?? "zh-CN";
}

const state = $state({ locale: initial() });

export function locale(): Locale {
  return state.locale;
}

export function setLocale(next: Locale): void {
  state.locale = next;
  globalThis.localStorage?.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

export function t(key: MessageKey, params?: Params): string {
  return format(state.locale, key, params);
}

/** A Unix time as a local date and time in the current language. */
export function time(unix: number): string {
  return formatTime(state.locale, unix);
}

/** A Unix time as a local date and time with seconds. */
export function timeSeconds(unix: number): string {
  return formatTimeSeconds(state.locale, unix);
}

/** A Unix time as a local calendar date in the current language. */
export function date(unix: number): string {
  return formatUnixDate(state.locale, unix);
}

/**
 * A time that WeChat's quota day decides (0:00 Beijing time), said in Beijing time and, when
 * this computer's clock is in another zone, in its own time too.
 */
export function quotaTime(unix: number): string {
  const beijing = beijingClock(unix);
  return beijing === null ? time(unix) : t("time.beijing", { beijing, local: time(unix) });
}
