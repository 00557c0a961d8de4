// How an account is recognised at a glance: its name's first character on a colour of its
// own. The colour comes from the AppID, so it stays the same across renames and restarts and
// two accounts with similar names still look different.
import type { Account } from "../bindings";

export type Badge = { initial: string; hue: number };

/** FNV-1a of the AppID, spread over the colour wheel. */
export function hueOf(appid: string): number {
  let h = 0x811c9dc5;
  for (const ch of appid) {
    h ^= ch.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 360;
}

/** The first letter or Chinese character of the name (upper case), else of the AppID's tail. */
export function initialOf(name: string, appid: string): string {
  const source = name.trim() || appid.replace(/^wx/i, "");
  const first = [...source].find((c) => /[\p{L}\p{N}]/u.test(c)) ?? "?";
  return first.toLocaleUpperCase();
}

/** The demo runs under a real AppID too: its colour is its own, so the two never look alike. */
export function badgeOf(account: { name: string; profile: Pick<Account["profile"], "appid">; isDemo?: boolean }): Badge {
  const key = account.isDemo ? `demo:${account.profile.appid}` : account.profile.appid;
  return { initial: initialOf(account.name, account.profile.appid), hue: hueOf(key) };
}
