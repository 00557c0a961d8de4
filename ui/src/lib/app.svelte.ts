// App-wide state: what the app runs against, the accounts, which one is open, which screen.
import { commands, type Account, type AppError, type AppInfo } from "../bindings";
import { toAppError, unwrap } from "./ipc";

export type View = "browser" | "queue" | "deleted" | "audit" | "wizard" | "system" | "overview";

export const app = $state({
  info: null as AppInfo | null,
  accounts: [] as Account[],
  currentId: null as number | null,
  view: "browser" as View,
  ready: false,
  error: null as AppError | null,
});

export function currentAccount(): Account | null {
  return app.accounts.find((a) => a.id === app.currentId) ?? null;
}

/** Reloads the accounts; keeps the open one if it still exists, else prefers a real account. */
export async function refreshAccounts(prefer?: number): Promise<void> {
  try {
    app.accounts = unwrap(await commands.listAccounts());
  } catch (e) {
    app.error = toAppError(e);
    app.accounts = [];
  }
  const ids = app.accounts.map((a) => a.id);
  if (prefer !== undefined && ids.includes(prefer)) app.currentId = prefer;
  else if (app.currentId === null || !ids.includes(app.currentId)) {
    app.currentId = (app.accounts.find((a) => !a.isDemo) ?? app.accounts[0])?.id ?? null;
  }
  if (app.accounts.length === 0 && app.view === "browser") app.view = "wizard";
}

export async function start(): Promise<void> {
  try {
    app.info = await commands.appInfo();
  } catch (e) {
    app.error = toAppError(e);
  }
  await refreshAccounts();
  app.ready = true;
}
