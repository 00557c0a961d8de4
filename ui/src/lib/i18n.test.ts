import { describe, expect, it } from "vitest";
import { en, zhCN, type MessageKey } from "./messages";
import { beijingClock, counted, format, placeholders } from "./format";

const keys = Object.keys(zhCN) as MessageKey[];

describe("dictionaries", () => {
  it("have the same keys in both locales", () => {
    expect(Object.keys(en).sort()).toEqual([...keys].sort());
  });

  it("have no empty text", () => {
    for (const key of keys) {
      expect(zhCN[key].trim(), key).not.toBe("");
      expect(en[key].trim(), key).not.toBe("");
    }
  });

  it("use the same placeholders in both locales", () => {
    for (const key of keys) {
      expect(placeholders(en[key]), key).toEqual(placeholders(zhCN[key]));
    }
  });

  it("keep zh-CN text Chinese (no untranslated English sentences)", () => {
    // Product terms that read the same in both languages.
    const terms: MessageKey[] = ["wizard.source.stable"];
    const latinOnly = keys.filter((k) => !terms.includes(k) && !/[\u4e00-\u9fff]/.test(zhCN[k]) && zhCN[k].length > 12);
    expect(latinOnly).toEqual([]);
  });
});

describe("format", () => {
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(format("en", "keyring.service", { service: "app.retract" })).toBe("Stored under: app.retract");
    expect(format("zh-CN", "keyring.service")).toBe("保存位置：{service}");
  });
});

describe("counts", () => {
  it("say one and many in English, one form in Chinese", () => {
    expect(counted(1, "article")).toBe("article");
    expect(counted(0, "article")).toBe("articles");
    expect(counted(2, "entry|entries")).toBe("entries");
    expect(counted(1, "entry|entries")).toBe("entry");
    expect(counted(5, "篇")).toBe("篇");
  });

  it("never say '1 articles' in any English text", () => {
    for (const key of keys) {
      const text = format("en", key, new Proxy({}, { has: () => true, get: () => 1 }) as Record<string, number>);
      expect(text, key).not.toMatch(/\b1 (articles|requests|deletes|messages|days|accounts|items|entries)\b/);
    }
  });
});

describe("errors in Chinese", () => {
  it("never carry the core's English message inside a Chinese sentence", () => {
    const errorKeys = keys.filter((k) => k.startsWith("error."));
    for (const key of errorKeys) expect(zhCN[key], key).not.toContain("{message}");
  });
});

describe("quota times", () => {
  it("say Beijing's clock when this computer's differs", () => {
    const midnightBeijing = Date.UTC(2026, 11, 3, 16, 0) / 1000;
    const here = -new Date(midnightBeijing * 1000).getTimezoneOffset();
    const said = beijingClock(midnightBeijing);
    if (here === 480) expect(said).toBeNull();
    else expect(said).toBe("12/4 0:00");
  });
});
