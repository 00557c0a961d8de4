import { describe, expect, it } from "vitest";
import type { AppError, ErrorKind } from "../bindings";
import { attempt, CommandError, explain, toAppError, unwrap } from "./ipc";
import { format } from "./format";

const whitelist: AppError = {
  kind: "ipNotWhitelisted",
  message: "WeChat error 40164",
  detail: "invalid ip 203.0.113.9 ...",
  errcode: 40164,
  rid: "6a1d7d64-1a5c7d64-18ff931f",
  ip: "203.0.113.9",
};

describe("ipc", () => {
  it("unwraps ok results and throws typed errors", () => {
    expect(unwrap({ status: "ok", data: 5 })).toBe(5);
    expect(() => unwrap({ status: "error", error: whitelist })).toThrow(CommandError);
    try {
      unwrap({ status: "error", error: whitelist });
    } catch (e) {
      expect(toAppError(e)).toEqual(whitelist);
    }
  });

  it("attempt hands a failed command's error to its handler and nothing on success", async () => {
    const seen: AppError[] = [];
    await attempt(async () => {
      unwrap({ status: "error", error: whitelist });
    }, (e) => seen.push(e));
    await attempt(async () => {}, (e) => seen.push(e));
    expect(seen).toEqual([whitelist]);
  });

  it("turns framework failures into internal errors", () => {
    expect(toAppError("command foo not allowed").kind).toBe("internal");
    expect(toAppError(new Error("boom")).message).toBe("boom");
  });

  it("explains a whitelist error with the IP WeChat saw, in both locales", () => {
    const { key, params } = explain(whitelist);
    expect(format("zh-CN", key, params)).toContain("203.0.113.9");
    expect(format("en", key, params)).toContain("203.0.113.9");
  });

  it("has an explanation for every error kind", () => {
    const kinds: ErrorKind[] = [
      "keyringUnavailable", "keyringLocked", "invalidInput", "invalidCredentials", "ipNotWhitelisted",
      "riskyIp", "quotaExhausted", "rateLimited", "unauthorized", "articleGone", "tokenExpired",
      "tokenRejected", "network", "outcomeUnknown", "storage", "notFound", "secretMissing",
      "confirmationRejected", "cancelled", "busy", "wechat", "internal", "secretBoundElsewhere",
      "platformIpNotWhitelisted", "clearQuotaExhausted", "unproven", "conflict",
    ];
    for (const kind of kinds) {
      const { key } = explain({ ...whitelist, kind });
      expect(key.startsWith("error."), kind).toBe(true);
      expect(format("zh-CN", key, {}).trim(), kind).not.toBe("");
    }
  });
});
