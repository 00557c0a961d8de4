// The one place that turns command results into values or typed errors. Components call
// `unwrap(await commands.x())` and catch `AppError`s, branching on `kind` only.
import type { AppError, ErrorKind } from "../bindings";
import type { MessageKey } from "./messages";

export type Result<T> = { status: "ok"; data: T } | { status: "error"; error: AppError };

export class CommandError extends Error {
  readonly error: AppError;
  constructor(error: AppError) {
    super(error.message);
    this.error = error;
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.status === "error") throw new CommandError(result.error);
  return result.data;
}

/** Anything thrown by a command call (including framework failures) as an `AppError`. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof CommandError) return thrown.error;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return { kind: "internal", message, detail: null, errcode: null, rid: null, ip: null };
}

const KEYS: Record<ErrorKind, MessageKey> = {
  keyringUnavailable: "error.keyringUnavailable",
  keyringLocked: "error.keyringLocked",
  invalidInput: "error.invalidInput",
  invalidCredentials: "error.invalidCredentials",
  ipNotWhitelisted: "error.ipNotWhitelisted",
  platformIpNotWhitelisted: "error.platformIpNotWhitelisted",
  riskyIp: "error.riskyIp",
  quotaExhausted: "error.quotaExhausted",
  rateLimited: "error.rateLimited",
  clearQuotaExhausted: "error.clearQuotaExhausted",
  unauthorized: "error.unauthorized",
  articleGone: "error.articleGone",
  tokenExpired: "error.tokenExpired",
  tokenRejected: "error.tokenRejected",
  network: "error.network",
  outcomeUnknown: "error.outcomeUnknown",
  storage: "error.storage",
  notFound: "error.notFound",
  secretMissing: "error.secretMissing",
  secretBoundElsewhere: "error.secretBoundElsewhere",
  confirmationRejected: "error.confirmationRejected",
  cancelled: "error.cancelled",
  busy: "error.busy",
  unproven: "error.unproven",
  conflict: "error.conflict",
  wechat: "error.wechat",
  articleChanged: "error.articleChanged",
  waitingForCheck: "error.waitingForCheck",
  internal: "error.internal",
};

export type Tone = "info" | "action" | "failure";

/**
 * How loud a problem is: information (announced, or resolves itself), action needed (the
 * operator can fix it), failure (something broke).
 */
export function tone(kind: ErrorKind): Tone {
  switch (kind) {
    case "quotaExhausted":
    case "waitingForCheck":
    case "cancelled":
    case "rateLimited":
      return "info";
    case "network":
    case "storage":
    case "wechat":
    case "internal":
    case "tokenRejected":
      return "failure";
    default:
      return "action";
  }
}

/** What "复制诊断信息" copies: kind, code, rid, IP and the core's message (never a secret). */
export function diagnostics(error: AppError): string {
  return [
    `kind: ${error.kind}`,
    error.errcode !== null ? `errcode: ${error.errcode}` : null,
    error.rid ? `rid: ${error.rid}` : null,
    error.ip ? `ip: ${error.ip}` : null,
    `message: ${error.message}`,
    error.detail ? `detail: ${error.detail}` : null,
  ]
    .filter((line) => line !== null)
    .join("\n");
}

/** The message key that explains an error kind, and its parameters. */
export function explain(error: AppError): { key: MessageKey; params: Record<string, string> } {
  return {
    key: KEYS[error.kind],
    params: { ip: error.ip ?? "?" },
  };
}

/** Runs `work`; anything it throws reaches `onError` as an `AppError`. */
export async function attempt(work: () => Promise<void>, onError: (error: AppError) => void): Promise<void> {
  try {
    await work();
  } catch (e) {
    onError(toAppError(e));
  }
}
