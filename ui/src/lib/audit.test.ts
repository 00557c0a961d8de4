import { describe, expect, it } from "vitest";
import type { AuditAction, AuditEvent } from "../bindings";
import { awaySummary, kindOf, sentence } from "./audit";
import { format } from "./format";

const event = (action: AuditAction, detail: unknown): AuditEvent => ({
  id: 1, at: 0, accountId: 1, action, detail: typeof detail === "string" ? detail : JSON.stringify(detail), rid: null, errcode: null,
});

describe("the activity log as sentences", () => {
  it("says what a delete request did, with its titles and how it ended", () => {
    const ok = sentence(event("delete_request", { titles: ["周报", "预告"], errcode: 0 }));
    expect(format("zh-CN", ok.key, ok.params)).toBe("删除了「周报 / 预告」");
    expect(ok.result).toBe("ok");
    const refused = sentence(event("delete_request", { titles: ["周报"], errcode: 45009 }));
    expect(format("zh-CN", refused.key, refused.params)).toContain("45009");
    expect(refused.result).toBe("problem");
    expect(sentence(event("delete_request", { titles: ["周报"], errcode: -2 })).key).toBe("audit.say.deleteNoAnswer");
  });

  it("counts a run's results and marks a stopped run", () => {
    const said = sentence(event("plan_executed", { plan: 3, results: [[1, "deleted"], [2, "waitingForQuota"]], stopped: "45009" }));
    expect(said.params).toEqual({ deleted: 1, other: 1 });
    expect(said.result).toBe("problem");
  });

  it("gives every action a sentence, even with a detail it cannot read", () => {
    const actions: AuditAction[] = ["account_added", "account_removed", "sync", "plan_created", "plan_confirmed", "plan_cancelled", "plan_executed", "delete_request", "reconciled", "queue_cancelled", "quota_cleared", "observed", "draft_restored", "draft_restore_failed", "operator_decided", "unknown"];
    for (const a of actions) {
      for (const locale of ["zh-CN", "en"] as const) {
        const said = sentence(event(a, "not json"));
        const textSaid = format(locale, said.key, said.params);
        expect(textSaid, `${a} ${locale}`).not.toMatch(/\{\w+(:[^}]*)?\}/);
        if (locale === "zh-CN") expect(textSaid, a).toMatch(/[\u4e00-\u9fff]/);
      }
      expect(["deletes", "plans", "syncs", "accounts", "other"]).toContain(kindOf(a));
    }
  });
});

describe("while you were away", () => {
  it("counts delete requests per account, apart from everything else", () => {
    const e = (accountId: number | null, action: AuditAction, errcode: number | null): AuditEvent => ({ id: 1, at: 0, accountId, action, detail: "{}", rid: null, errcode });
    expect(
      awaySummary([e(1, "delete_request", 0), e(1, "delete_request", 0), e(1, "delete_request", 45009), e(2, "delete_request", 0), e(2, "sync", null), e(null, "delete_request", 0)]),
    ).toEqual([
      { id: 1, deleted: 2, problems: 1 },
      { id: 2, deleted: 1, problems: 0 },
    ]);
  });
});
