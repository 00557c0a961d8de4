import { describe, expect, it } from "vitest";
import { checkAppId, checkSecret, checkUrl, cleaned, hadInvisible, normalizePhrase } from "./fields";

describe("wizard field hints", () => {
  it("accept a well-formed AppID with pasted invisible characters and spaces", () => {
    expect(checkAppId(" wx5e7d1c0ffee0a1b2\u200B ")).toBeNull();
    expect(hadInvisible("wx5e7d1c0ffee0a1b2\u200B")).toBe(true);
    expect(cleaned("\uFEFFwx5e7d1c0ffee0a1b2")).toBe("wx5e7d1c0ffee0a1b2");
  });

  it("explain what is wrong with an AppID", () => {
    expect(checkAppId("")).toBe("field.appid.empty");
    expect(checkAppId("wx123")).toBe("field.appid.shape");
    expect(checkAppId("gh_5e7d1c0ffee0a1b2")).toBe("field.appid.shape");
    expect(checkAppId("wx5e7d1c0ffee0\u0007a1b2")).toBe("field.control");
  });

  it("check the AppSecret shape", () => {
    expect(checkSecret("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d")).toBeNull();
    expect(checkSecret("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6")).toBe("field.secret.shape");
    expect(checkSecret("   ")).toBe("field.secret.empty");
  });

  it("allow plain http only on loopback (or for a proxy)", () => {
    expect(checkUrl("https://relay.example.com/wx")).toBeNull();
    expect(checkUrl("http://127.0.0.1:8787")).toBeNull();
    expect(checkUrl("http://relay.example.com")).toBe("field.url.https");
    expect(checkUrl("http://proxy.corp:3128", { allowHttp: true })).toBeNull();
    expect(checkUrl("not a url")).toBe("field.url.invalid");
    expect(checkUrl("")).toBeNull();
  });

  it("accept full-width digits in the confirm phrase", () => {
    expect(normalizePhrase(" １２ ")).toBe("12");
  });
});
