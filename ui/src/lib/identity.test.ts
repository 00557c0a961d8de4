import { describe, expect, it } from "vitest";
import { hueOf, initialOf } from "./identity";

describe("account badges", () => {
  it("take the first letter or character of the name", () => {
    expect(initialOf("测试服务号", "wx1")).toBe("测");
    expect(initialOf("  acme news", "wx1")).toBe("A");
    expect(initialOf("「星」周刊", "wx1")).toBe("星");
    expect(initialOf("", "wx5e7d1c0ffee")).toBe("5");
  });

  it("keep one colour per AppID, and spread neighbours apart", () => {
    expect(hueOf("wx5e7d1c0ffee0a1b2")).toBe(hueOf("wx5e7d1c0ffee0a1b2"));
    const hues = ["wx0000000000000001", "wx0000000000000002", "wx0000000000000003", "wx0000000000000004"].map(hueOf);
    expect(new Set(hues).size).toBe(4);
    for (const h of hues) expect(h >= 0 && h < 360).toBe(true);
  });
});
