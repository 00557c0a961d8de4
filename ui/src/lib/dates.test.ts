import { describe, expect, it } from "vitest";
import { formatDate, formatTime, formatUnixDate, isoToDisplay, parseDate } from "./format";

describe("dates follow the UI language", () => {
  const day = new Date(2026, 10, 25, 20, 35);

  it("shows a date the way each language writes it", () => {
    expect(formatDate("zh-CN", day)).toBe("2026年11月25日");
    expect(formatDate("en", day)).toBe("2026-11-25");
    expect(formatTime("zh-CN", day.getTime() / 1000)).toBe("2026年11月25日 20:35");
    expect(formatTime("en", day.getTime() / 1000)).toBe("2026-11-25 20:35");
    expect(formatUnixDate("zh-CN", day.getTime() / 1000)).toBe("2026年11月25日");
    expect(formatUnixDate("en", day.getTime() / 1000)).toBe("2026-11-25");
    expect(isoToDisplay("zh-CN", "2026-01-05")).toBe("2026年1月5日");
    expect(isoToDisplay("en", "2026-01-05")).toBe("2026-01-05");
    expect(isoToDisplay("en", "")).toBe("");
  });

  it("reads a typed date in either language's form", () => {
    for (const typed of ["2026-11-25", "2026/11/25", "2026.11.25", "2026年11月25日", "2026 年 11 月 25 日", "20261125", " 2026-11-25 "]) {
      expect(parseDate(typed), typed).toBe("2026-11-25");
    }
    expect(parseDate("2026-1-5")).toBe("2026-01-05");
    expect(parseDate("2026年1月5日")).toBe("2026-01-05");
  });

  it("refuses what is no calendar date", () => {
    for (const typed of ["", "11/25/2026", "2026-02-30", "2026-13-01", "2026-00-10", "二〇二六年", "2026-11", "2026-11-25T00:00", "99999999"]) {
      expect(parseDate(typed), typed).toBeNull();
    }
  });
});
