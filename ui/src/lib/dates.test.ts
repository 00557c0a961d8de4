import { describe, expect, it } from "vitest";
import { formatDate, formatTime, formatUnixDate, isoToDisplay, localUnix, parseClock, parseDate } from "./format";

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

  it("reads a time of day in either language's form and refuses what is none", () => {
    const table: [string, string | null][] = [
      ["0:00", "00:00"],
      ["00:00", "00:00"],
      ["9:30", "09:30"],
      ["09.30", "09:30"],
      ["0930", "09:30"],
      ["21点", "21:00"],
      ["9点30分", "09:30"],
      ["23：59", "23:59"],
      ["7", "07:00"],
      ["24:00", null],
      ["12:60", null],
      ["noon", null],
      ["", null],
    ];
    for (const [typed, expected] of table) expect(parseClock(typed), typed).toBe(expected);
  });

  it("turns a date and a time into this computer's Unix time", () => {
    expect(localUnix("2026-12-01", "00:00")).toBe(new Date(2026, 11, 1, 0, 0).getTime() / 1000);
    expect(localUnix("2026-12-01", "")).toBeNull();
    expect(localUnix("", "08:00")).toBeNull();
  });
});
