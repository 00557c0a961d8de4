import { describe, expect, it } from "vitest";
import { highlight, presetRange } from "./list";

describe("search highlight", () => {
  it("marks every hit, in any case, and keeps the text whole", () => {
    const parts = highlight("Sale! 双十一 sale", "SALE");
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(["Sale", "sale"]);
    expect(parts.map((p) => p.text).join("")).toBe("Sale! 双十一 sale");
    expect(highlight("双十一预告", "十一")).toEqual([
      { text: "双", hit: false },
      { text: "十一", hit: true },
      { text: "预告", hit: false },
    ]);
    expect(highlight("abc", null)).toEqual([{ text: "abc", hit: false }]);
    expect(highlight("abc", "  ")).toEqual([{ text: "abc", hit: false }]);
  });
});

describe("date presets", () => {
  it("cover the last 7 and 30 days with today included", () => {
    expect(presetRange("7d", new Date(2026, 11, 3, 23, 59))).toEqual({ from: "2026-11-27", to: "2026-12-03" });
    expect(presetRange("30d", new Date(2026, 2, 1, 0, 0))).toEqual({ from: "2026-01-31", to: "2026-03-01" });
  });
  it("know month ends, leap years and January", () => {
    expect(presetRange("thisMonth", new Date(2026, 11, 3))).toEqual({ from: "2026-12-01", to: "2026-12-03" });
    expect(presetRange("lastMonth", new Date(2028, 2, 31))).toEqual({ from: "2028-02-01", to: "2028-02-29" });
    expect(presetRange("lastMonth", new Date(2027, 0, 15))).toEqual({ from: "2026-12-01", to: "2026-12-31" });
    expect(presetRange("custom", new Date())).toBeNull();
  });
});
