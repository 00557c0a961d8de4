// When the operator last saw the window: what "while you were away" counts from. Moved on
// while the window is in view, and the moment a run the operator watched ends.
export const SEEN_KEY = "retract.seenUntil";

export function markSeen(at: number = Math.floor(Date.now() / 1000)): void {
  globalThis.localStorage?.setItem(SEEN_KEY, String(at));
}
