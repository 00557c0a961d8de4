import { describe, expect, it } from "vitest";
import { en, zhCN, type MessageKey } from "./messages";
import { format, placeholders } from "./format";

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
