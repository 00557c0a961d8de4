// The operator's journey in the real app window against wechat-sim (a separate process):
// wizard → verify → save (real keyring) → sync → search → select → both confirm steps →
// result → index updated; cancelling at each step sends nothing; 40164 shows the IP; a
// missing keyring offers "this session only". Screenshots of each screen in both languages.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
import { byTestId, attr, find, firstOf, launch, logText, screenshot, setLocale, shootBoth, sql, textOf, until } from "./harness.mjs";
import { DEMO_APPID, DEMO_SECRET, startSim } from "./sim.mjs";

const DELETE = "/cgi-bin/freepublish/delete";

async function type(driver, id, text) {
  const el = await find(driver, id);
  await el.clear();
  await el.sendKeys(text);
  return el;
}

async function activeTestId(driver) {
  return (await driver.switchTo().activeElement()).getAttribute("data-testid");
}

async function fillWizard(driver) {
  await type(driver, "wizard-name", "测试服务号");
  await type(driver, "wizard-appid", DEMO_APPID);
  await type(driver, "wizard-secret", DEMO_SECRET);
}

describe("first run: wizard, sync, search, delete one article", () => {
  let sim;
  let app;
  let driver;
  let chosen;
  let needleKept = "";

  before(async () => {
    sim = await startSim(120);
    app = await launch([], { RETRACT_API_BASE: sim.base });
    driver = app.driver;
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  it("opens the wizard on first launch and refuses a malformed AppID before any request", async () => {
    await find(driver, "wizard");
    await shootBoth(driver, "wizard");
    await type(driver, "wizard-appid", "wx123");
    await (await find(driver, "wizard-verify")).click();
    const hint = await find(driver, "wizard-appid-error");
    assert.match(await hint.getText(), /18/);
    assert.equal(await (await find(driver, "wizard-save")).isEnabled(), false);
    assert.equal((await sim.requests()).length, 0, "nothing reached the API");
  });

  it("verifies: a token and the delete quota", async () => {
    await fillWizard(driver);
    await (await find(driver, "wizard-verify")).click();
    const result = await find(driver, "wizard-verify-result");
    assert.match(await result.getText(), /10 \/ 10/);
    const sent = await sim.requests();
    assert.ok(sent.some((r) => r.path === "/cgi-bin/stable_token" && JSON.parse(r.body).force_refresh === false));
    assert.ok(sent.some((r) => r.path === "/cgi-bin/openapi/quota/get"));
    assert.ok(!sent.some((r) => r.path === "/cgi-bin/token"), "the invalidating token endpoint is never used");
    // The checklist: the publishing permission is checked now, by one listing call.
    assert.equal(sent.filter((r) => r.path === "/cgi-bin/freepublish/batchget").length, 1);
    const publish = await driver.findElement({ css: '[data-testid="wizard-checklist"] [data-check="publish"]' });
    assert.equal(await publish.getAttribute("data-ok"), "true");
    await shootBoth(driver, "wizard-verified");
  });

  it("saves the secret into the real keyring and says where", async () => {
    await (await find(driver, "wizard-save")).click();
    const saved = await attr(driver, "wizard-saved", "data-storage", "keyring");
    assert.match(await saved.getText(), /app\.retract\.desktop\.dev/);
    const found = execFileSync("secret-tool", ["search", "--all", "service", "app.retract.desktop.dev"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.match(found, new RegExp(`${DEMO_APPID}:appsecret`));
    await shootBoth(driver, "wizard-saved");
    await (await find(driver, "wizard-start")).click();
  });

  it("syncs the list into the local index with progress and the list quota", async () => {
    await find(driver, "never-synced");
    assert.match(await (await find(driver, "mass-send-note")).getText(), /群发/);
    await (await find(driver, "sync-button")).click();
    const result = await find(driver, "sync-result", 30000);
    assert.equal(await result.getAttribute("data-pages"), "6");
    const count = await find(driver, "article-count");
    await driver.wait(async () => Number(await count.getAttribute("data-total")) > 120, 10000);
    // Six pages, and the one listing call the setup made to check the publishing permission.
    assert.equal(await sim.count("/cgi-bin/freepublish/batchget"), 6 + 1);
    await shootBoth(driver, "browser");
  });

  it("searches Chinese text without calling the API", async () => {
    const before = (await sim.requests()).length;
    const firstTitle = await textOf(await driver.findElement({ css: '[data-testid="article-row"] .title' }));
    const needle = [...firstTitle].slice(-4).join("");
    needleKept = needle;
    await type(driver, "search-box", needle);
    const count = await find(driver, "article-count");
    await driver.wait(async () => Number(await count.getAttribute("data-total")) < 120, 10000, "search did not narrow the list");
    const titles = await Promise.all((await driver.findElements({ css: '[data-testid="article-row"]' })).map(textOf));
    assert.ok(titles.length > 0 && titles.every((text) => text.includes(needle)), `${needle}: ${titles.join(" | ")}`);
    assert.equal((await sim.requests()).length, before, "search is local");
  });

  it("takes dates in the UI's language and shows rows compact on request, remembered", async () => {
    const count = await find(driver, "article-count");
    const shown = Number(await count.getAttribute("data-total"));
    const tomorrow = new Date(Date.now() + 86400000);
    const [y, m, d] = [tomorrow.getFullYear(), tomorrow.getMonth() + 1, tomorrow.getDate()];
    const iso = `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
    // A date typed the Chinese way filters (nothing is published tomorrow)...
    const from = await type(driver, "date-from", `${y}年${m}月${d}日`);
    await from.sendKeys(Key.ENTER);
    await attr(driver, "date-from", "data-value", iso);
    await driver.wait(async () => Number(await count.getAttribute("data-total")) === 0, 10000, "the date did not filter");
    assert.equal(await from.getAttribute("value"), `${y}年${m}月${d}日`);
    assert.match(await from.getAttribute("placeholder"), /年.*月.*日/);
    await shootBoth(driver, "date-filter");
    await setLocale(driver, "en");
    await driver.wait(async () => (await from.getAttribute("value")) === iso, 5000, "the date is not shown the English way");
    await setLocale(driver, "zh-CN");
    // ...and clearing the field unfilters. (Forms that are no date — 11/25/2026 — are refused
    // by `parseDate`, tested in ui/src/lib/dates.test.ts.)
    await from.clear();
    await from.sendKeys(Key.ENTER);
    await driver.wait(async () => Number(await count.getAttribute("data-total")) === shown, 10000, "clearing the date did not unfilter");

    const rowHeight = async () => (await (await find(driver, "article-row")).getRect()).height;
    assert.ok((await rowHeight()) > 70, "comfortable rows by default");
    await (await find(driver, "density-toggle")).click();
    await attr(driver, "density-toggle", "data-density", "compact");
    await driver.wait(async () => (await rowHeight()) <= 44, 5000, "rows did not get compact");
    await shootBoth(driver, "browser-compact");
    await driver.navigate().refresh();
    await attr(driver, "density-toggle", "data-density", "compact", 15000);
    await (await find(driver, "density-toggle")).click();
    await attr(driver, "density-toggle", "data-density", "comfortable");
    await type(driver, "search-box", needleKept);
  });

  it("cancelling at step 1, by Escape, and at step 2 sends nothing", async () => {
    // The search typed at the end of the last test reloads the list: wait for its rows.
    const row = await firstOf(driver, { css: '[data-testid="article-row"][data-deleted="false"]' }, "live article in the searched list");
    chosen = { id: await row.getAttribute("data-article-id"), index: await row.getAttribute("data-index") };
    await (await row.findElement(byTestId("select-item"))).click();
    assert.match(await (await find(driver, "selection-count")).getAttribute("data-requests"), /^1$/);

    await (await find(driver, "delete-button")).click();
    await find(driver, "confirm-step1");
    assert.equal(await activeTestId(driver), "confirm-step1-cancel", "Cancel has the initial focus");
    // Which 公众号: named on every step (the typed count cannot catch the wrong account).
    const from = await textOf(await find(driver, "confirm-account"));
    assert.ok(from.includes("测试服务号") && from.includes(DEMO_APPID), from);
    await shootBoth(driver, "confirm-step1");
    await (await find(driver, "confirm-step1-cancel")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("confirm-dialog"))).length === 0, 5000);

    await (await find(driver, "delete-button")).click();
    await find(driver, "confirm-step1");
    await (await driver.switchTo().activeElement()).sendKeys(Key.ESCAPE);
    await driver.wait(async () => (await driver.findElements(byTestId("confirm-dialog"))).length === 0, 5000, "Escape did not cancel");

    await (await find(driver, "delete-button")).click();
    await (await find(driver, "confirm-step1-continue")).click();
    await find(driver, "confirm-step2");
    assert.equal(await activeTestId(driver), "confirm-step2-cancel");
    assert.equal(await (await find(driver, "confirm-delete")).isEnabled(), false);
    assert.match(await textOf(await find(driver, "confirm-step2")), /测试服务号/);
    await shootBoth(driver, "confirm-step2");
    await (await find(driver, "confirm-step2-cancel")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("confirm-dialog"))).length === 0, 5000);
    assert.equal(await sim.count(DELETE), 0, "no delete request was sent");
  });

  it("deletes exactly the reviewed article after both steps and updates the index", async () => {
    await (await find(driver, "delete-button")).click();
    const step1 = await find(driver, "confirm-step1");
    const reviewed = await step1.getText();
    await (await find(driver, "confirm-step1-continue")).click();
    const input = await find(driver, "confirm-phrase-input");
    await input.sendKeys("2");
    assert.equal(await (await find(driver, "confirm-delete")).isEnabled(), false, "a wrong number keeps the button disabled");
    await input.clear();
    await input.sendKeys("1");
    await driver.wait(until.elementIsEnabled(await find(driver, "confirm-delete")), 5000);
    // The undo window: the delete waits a few seconds, and 撤销 in them sends nothing — not
    // then, and not when the window would have run out.
    await (await find(driver, "confirm-delete")).click();
    await find(driver, "confirm-undo-window");
    await shootBoth(driver, "confirm-undo-window");
    await (await find(driver, "confirm-undo")).click();
    await find(driver, "confirm-undone");
    await driver.sleep(7000);
    assert.equal(await sim.count(DELETE), 0, "an undone delete sent a request");
    assert.equal((await driver.findElements(byTestId("deletion-results"))).length, 0, "an undone delete ran");
    await (await find(driver, "confirm-delete")).click();
    await attr(driver, "deletion-results", "data-state", "done", 30000);
    const result = await find(driver, "deletion-result");
    assert.equal(await result.getAttribute("data-outcome"), "deleted");
    // The screen behind the results is already up to date: quota, selection, the row.
    const headline = await attr(driver, "deletion-headline", "data-remain", "9");
    assert.equal(await headline.getAttribute("data-deleted"), "1");
    assert.match(await textOf(headline), /已从「测试服务号」删除 1 篇 · 今日剩余 9 次/);
    await attr(driver, "quota-meter", "data-remain", "9");
    assert.equal((await driver.findElements(byTestId("selection-count"))).length, 0, "the deleted article is still selected");
    assert.equal((await driver.findElements(byTestId("delete-button"))).length, 0, "a live Delete button is left behind the results");
    await shootBoth(driver, "deletion-results");

    const deletes = (await sim.requests()).filter((r) => r.path === DELETE).map((r) => JSON.parse(r.body));
    assert.deepEqual(deletes, [{ article_id: chosen.id, index: Number(chosen.index) }]);
    assert.ok(reviewed.length > 0);
    await (await find(driver, "deletion-done")).click();
    const row = await find(driver, "article-list");
    await driver.wait(
      async () => (await row.findElements({ css: `[data-article-id="${chosen.id}"][data-index="${chosen.index}"][data-deleted="true"]` })).length === 1,
      10000,
      "the row is not marked deleted",
    );
    await attr(driver, "quota-meter", "data-remain", "9");
    const tag = await (await find(driver, "article-list")).findElement({ css: `[data-article-id="${chosen.id}"][data-index="${chosen.index}"] [data-testid="deleted-tag"]` });
    assert.match(await textOf(tag), /^已删除 · \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/, "the deleted row says when it went");
  });

  it("writes a log the operator can hand to support: calls and journal, never a secret or token", async () => {
    const dir = join(app.dataDir, "logs");
    const text = logText(app.dataDir);
    assert.match(text, /API call path="127\.0\.0\.1\/cgi-bin\/freepublish\/delete" status=200 errcode=0 ms=\d+/);
    assert.match(text, /journal transition plan=\d+ seq=1 from=intent to="sent"/);
    assert.match(text, /journal transition plan=\d+ seq=1 from=sent to="done" outcome="deleted"/);
    const tokens = (await sim.requests()).map((r) => new URLSearchParams(r.query).get("access_token")).filter(Boolean);
    assert.ok(tokens.length > 0, "the simulator saw tokens to look for");
    for (const secret of [DEMO_SECRET, ...new Set(tokens)]) assert.ok(!text.includes(secret), "a secret or token reached the log");
    assert.ok(!text.includes("access_token"), "no URL query reached the log");
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, `${f} is the owner's only`);
  });

  it("shows the account settings", async () => {
    await (await find(driver, "account-settings-button")).click();
    await attr(driver, "secret-storage", "data-storage", "keyring");
    await shootBoth(driver, "account-settings");
    await (await driver.switchTo().activeElement()).sendKeys(Key.ESCAPE);
  });

  it("shows where a secret will go before it is given again, and what changed", async () => {
    // The database now names a proxy the secret was not saved for (a restored or swapped file).
    sql(app.dataDir, "UPDATE accounts SET proxy = 'http://ops:pw@proxy.corp.invalid:3128' WHERE is_demo = 0");
    await (await find(driver, "account-settings-button")).click();
    await attr(driver, "secret-storage", "data-storage", "none");
    await attr(driver, "destination-proxy", "data-changed", "true");
    await attr(driver, "destination-api", "data-changed", "false");
    const shown = await textOf(await find(driver, "secret-destination"));
    assert.match(shown, /proxy\.corp\.invalid:3128/);
    assert.doesNotMatch(shown, /ops:pw/, "a proxy's credentials are not shown");
    await shootBoth(driver, "secret-destination-changed");
    await (await driver.switchTo().activeElement()).sendKeys(Key.ESCAPE);
    sql(app.dataDir, "UPDATE accounts SET proxy = NULL WHERE is_demo = 0");
  });

  it("renames the account, then removes it with its keyring entry after a confirm", async () => {
    await (await find(driver, "account-settings-button")).click();
    await type(driver, "rename-input", "改名后的服务号");
    await (await find(driver, "rename-save")).click();
    const switcher = await find(driver, "account-switcher");
    await driver.wait(async () => (await textOf(switcher)).includes("改名后的服务号"), 5000, "the switcher kept the old name");

    await (await find(driver, "remove-account")).click();
    await find(driver, "remove-confirm");
    assert.equal(await activeTestId(driver), "remove-cancel", "Cancel has the focus in the removal confirm");
    await shootBoth(driver, "remove-account");
    await (await find(driver, "remove-yes")).click();
    await find(driver, "wizard");
    const left = execFileSync("secret-tool", ["search", "--all", "service", "app.retract.desktop.dev"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    assert.doesNotMatch(left, new RegExp(`${DEMO_APPID}:appsecret`), "the keyring entry is gone");
  });
});

describe("IP not whitelisted", () => {
  let sim;
  let app;

  before(async () => {
    sim = await startSim(5);
    await sim.configure({ whitelist: ["198.51.100.1"], caller_ip: "203.0.113.45" });
    app = await launch([], { RETRACT_API_BASE: sim.base });
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  it("shows the IP WeChat saw, where to add it, the rid, and opens the network settings", async () => {
    const { driver } = app;
    await fillWizard(driver);
    await (await find(driver, "wizard-verify")).click();
    const banner = await attr(driver, "error-banner", "data-errcode", "40164");
    const text = await banner.getText();
    assert.match(text, /203\.0\.113\.45/);
    assert.match(text, /IP白名单/);
    assert.match(await (await find(driver, "error-rid")).getText(), /[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}/);
    assert.equal(await (await find(driver, "wizard-network")).getAttribute("open"), "true");
    await shootBoth(driver, "wizard-40164");
    await setLocale(driver, "en");
    assert.match(await (await find(driver, "error-banner")).getText(), /IP Whitelist/);
    await setLocale(driver, "zh-CN");
    assert.equal(await (await find(driver, "wizard-save")).isEnabled(), false);
  });

  it("takes an address on this computer only with the operator's word that a relay runs there", async () => {
    const { driver } = app;
    const before = (await sim.requests()).length;
    const field = await type(driver, "wizard-api-base", "http://127.0.0.1:9/");
    const hint = await firstOf(driver, { css: ".field-error" }, "the field's hint");
    assert.match(await hint.getText(), /本机/);
    await (await find(driver, "wizard-verify")).click();
    assert.equal((await sim.requests()).length, before, "nothing sent while the field is refused");
    await shootBoth(driver, "wizard-local-relay");
    await (await find(driver, "wizard-local-relay")).click();
    await driver.wait(async () => (await driver.findElements({ css: ".field-error" })).length === 0, 5000, "the hint stays after the word is given");
    await (await find(driver, "wizard-local-relay")).click();
    await field.sendKeys(Key.chord(Key.CONTROL, "a"));
    await field.sendKeys(Key.BACK_SPACE);
  });
});

describe("no keyring available", () => {
  let sim;
  let app;

  before(async () => {
    sim = await startSim(5);
    // The app gets a session bus address that leads nowhere: no Secret Service at all.
    app = await launch([], { RETRACT_API_BASE: sim.base, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/retract-bus" });
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  it("explains it and offers 'this session only', never a plaintext fallback", async () => {
    const { driver, dataDir } = app;
    await fillWizard(driver);
    await (await find(driver, "wizard-verify")).click();
    await find(driver, "wizard-verify-result");
    await (await find(driver, "wizard-save")).click();
    await attr(driver, "error-banner", "data-kind", "keyringUnavailable");
    await shootBoth(driver, "wizard-keyring-unavailable");
    await (await find(driver, "wizard-session-only")).click();
    await attr(driver, "wizard-saved", "data-storage", "sessionOnly");
    const files = execFileSync("bash", ["-c", `cat "${dataDir}"/* 2>/dev/null | grep -c ${DEMO_SECRET} || true`], { encoding: "utf8" });
    assert.equal(files.trim(), "0", "the secret is in no file of the data folder");
  });
});
