// Operator power in the real window: select every article a search matches (whole messages
// where every live item matches) with its cost stated first, and the review's offer to merge
// item-by-item requests into one whole-message request; find articles by pasted links, short
// ones resolved through their pages; every account at a glance.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "selenium-webdriver";
import { attr, byTestId, deleteSelection, find, firstOf, launch, shootBoth, sql, typeConfirmation } from "./harness.mjs";
import { addAccount, appWithAccount, startSim } from "./sim.mjs";

const DELETE = "/cgi-bin/freepublish/delete";

/** The article ids of messages with at least `min` items, in list order. */
async function multiItemMessages(driver, min) {
  await firstOf(driver, byTestId("article-row"), "article in the list");
  const firsts = await driver.findElements({ css: '[data-testid="article-row"][data-index="1"][data-deleted="false"]' });
  const found = [];
  for (const row of firsts) {
    const count = Number(await row.getAttribute("data-item-count"));
    if (count >= min) found.push({ id: await row.getAttribute("data-article-id"), count });
  }
  return found;
}

/** The checkbox of the first live article, once the list shows one. */
function firstLiveBox(driver) {
  return firstOf(driver, { css: '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]' }, "live article");
}

async function search(driver, text) {
  const box = await find(driver, "search-box");
  // Typed as a user would (clear() sends no input event to the page).
  await box.sendKeys(Key.chord(Key.CONTROL, "a"), Key.BACK_SPACE);
  if (text) await box.sendKeys(text);
}

describe("selecting by rule and spending less quota", () => {
  let world;
  let driver;
  let fullTotal;
  let renamed = [];

  before(async () => {
    world = await appWithAccount(60);
    driver = world.driver;
  });

  after(async () => world?.close());

  it("selects every live article a search matches, whole messages as one request, after saying what it costs", async () => {
    fullTotal = await (await find(driver, "article-count")).getAttribute("data-total");
    const [a, b] = await multiItemMessages(driver, 2);
    assert.ok(a && b, "the demo list has two messages of several articles");
    renamed = [a.id, b.id];
    // Another process renames them in the index (the search copy must notice): every item of
    // message a, only the first of message b.
    sql(world.app.dataDir, `UPDATE items SET title = 'Campaign 2024 part ' || idx WHERE article_id = '${a.id}'`);
    sql(world.app.dataDir, `UPDATE items SET title = 'campaign 2024 teaser' WHERE article_id = '${b.id}' AND idx = 1`);
    await search(driver, "CAMPAIGN 2024");
    await attr(driver, "article-count", "data-total", String(a.count + 1));

    await (await find(driver, "select-matching")).click();
    const summary = await find(driver, "match-summary");
    assert.equal(await summary.getAttribute("data-matched"), String(a.count + 1));
    assert.equal(await summary.getAttribute("data-articles"), String(a.count + 1));
    assert.equal(await summary.getAttribute("data-requests"), "2");
    assert.equal(await summary.getAttribute("data-wholes"), "1");
    assert.equal(await summary.getAttribute("data-capped"), "false");
    assert.equal(await summary.getAttribute("data-days"), "1");
    assert.equal(await (await driver.switchTo().activeElement()).getAttribute("data-testid"), "match-cancel", "Cancel has the focus");
    await shootBoth(driver, "select-matching");
    await (await find(driver, "match-confirm")).click();

    const bar = await attr(driver, "selection-count", "data-requests", "2");
    assert.equal(await bar.getAttribute("data-articles"), String(a.count + 1));
    await (await find(driver, "delete-button")).click();
    await find(driver, "confirm-step1");
    const targets = await driver.findElements(byTestId("confirm-target"));
    const whole = await Promise.all(targets.map((t) => t.getAttribute("data-whole")));
    assert.deepEqual(whole.sort(), ["false", "true"]);
    await (await find(driver, "confirm-step1-cancel")).click();
    assert.equal(await world.sim.count(DELETE), 0, "selecting and reviewing sends no delete");
    await (await find(driver, "clear-selection")).click();
    await search(driver, "");
  });

  it("offers one whole-message request where every live item is selected one by one, and deletes that way", async () => {
    await attr(driver, "article-count", "data-total", fullTotal);
    // Not one renamed above: the simulator still has the old titles, and the re-check before a
    // delete would rightly refuse.
    const c = (await multiItemMessages(driver, 2)).find((m) => !renamed.includes(m.id));
    assert.ok(c, "a third message of several articles");
    const boxes = await driver.findElements({ css: `[data-testid="article-row"][data-article-id="${c.id}"] [data-testid="select-item"]` });
    assert.equal(boxes.length, c.count);
    for (const box of boxes) await box.click();
    await attr(driver, "selection-count", "data-requests", String(c.count));
    await (await find(driver, "delete-button")).click();
    const offer = await find(driver, "confirm-merge");
    assert.equal(await offer.getAttribute("data-saved"), String(c.count - 1));
    await shootBoth(driver, "confirm-merge");
    await (await find(driver, "confirm-merge-button")).click();

    await driver.wait(async () => {
      const t = await driver.findElements(byTestId("confirm-target"));
      return t.length === 1 && (await t[0].getAttribute("data-whole")) === "true";
    }, 15000, "the merged plan has one whole-message request");
    assert.equal((await driver.findElements(byTestId("confirm-merge"))).length, 0, "nothing left to merge");
    await attr(driver, "selection-count", "data-requests", "1");
    await (await find(driver, "confirm-step1-continue")).click();
    await typeConfirmation(driver, String(c.count));
    await (await find(driver, "confirm-delete")).click();
    await attr(driver, "deletion-results", "data-state", "done", 30000);
    const deletes = (await world.sim.requests()).filter((r) => r.path === DELETE).map((r) => JSON.parse(r.body));
    assert.equal(deletes.length, 1, "one request for the whole message");
    assert.equal(deletes[0].article_id, c.id);
    assert.ok(!deletes[0].index, `a whole-message delete carries no position: ${JSON.stringify(deletes[0])}`);
  });
});

describe("finding articles by pasted links", () => {
  let world;
  let driver;

  before(async () => {
    // The index holds long links; the operator pastes short ones too.
    world = await appWithAccount(40, { quirks: { long_urls: true } });
    driver = world.driver;
  });

  after(async () => world?.close());

  it("resolves a short link through its page, reads a long one in any dress, and says why the rest are not found", async () => {
    const links = await world.sim.links();
    const [first, second] = [links[links.length - 1], links[links.length - 3]];
    const biz = new URL(second.long).searchParams.get("__biz");
    const text = [
      "请下线以下文章：",
      `1. ${first.short}?scene=1#rd`,
      `2. ${second.long.replace("http://", "https://").replaceAll("&", "&amp;")}`,
      "3. https://example.com/not-wechat",
      `4. http://mp.weixin.qq.com/s?__biz=${encodeURIComponent(biz)}&mid=2650999999&idx=1&sn=00#rd`,
    ].join("\n");
    await world.sim.requests();
    const before = (await world.sim.requests()).length;

    await (await find(driver, "paste-links")).click();
    // Line by line, as typed or pasted (a "\n" inside sendKeys is not a key press in WebKit).
    const lines = text.split("\n");
    await (await find(driver, "links-input")).sendKeys(...lines.flatMap((line, i) => (i === 0 ? [line] : [Key.ENTER, line])));
    await (await find(driver, "links-find")).click();
    const summary = await attr(driver, "links-summary", "data-found", "2");
    assert.equal(await summary.getAttribute("data-total"), "4");
    const outcomes = await Promise.all((await driver.findElements(byTestId("link-result"))).map((r) => r.getAttribute("data-outcome")));
    assert.deepEqual(outcomes, ["found", "found", "notAnArticleLink", "notInIndex"]);
    await find(driver, "links-sync-hint");
    const pages = (await world.sim.requests()).slice(before).map((r) => r.path);
    assert.deepEqual(pages, [`/s/${first.short.split("/s/")[1]}`], "one page read, for the short link the index does not hold");
    await shootBoth(driver, "paste-links");

    await (await find(driver, "links-select")).click();
    await attr(driver, "selection-count", "data-requests", "2");
    await (await find(driver, "delete-button")).click();
    await find(driver, "confirm-step1");
    const targets = await Promise.all(
      (await driver.findElements(byTestId("confirm-target"))).map(async (t) => `${await t.getAttribute("data-article-id")}#${await t.getAttribute("data-index")}`),
    );
    assert.deepEqual(targets.sort(), [`${first.article_id}#${first.idx}`, `${second.article_id}#${second.idx}`].sort(), "exactly the two linked articles, item by item");
    await (await find(driver, "confirm-step1-cancel")).click();
    assert.equal(await world.sim.count(DELETE), 0, "finding and reviewing sends no delete");
  });
});

describe("every account at a glance", () => {
  let sim;
  let app;
  let driver;

  before(async () => {
    sim = await startSim(30);
    await sim.configure({ delete_daily_limit: 1 });
    app = await launch([], { RETRACT_API_BASE: sim.base });
    driver = app.driver;
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  it("lists each account's index, quota, queue and trouble, and opens one with a click", async () => {
    // The demo account first (the first-run choice), then a real-shaped account on the simulator.
    await (await find(driver, "wizard-demo")).click();
    await find(driver, "sync-result", 30000);
    await (await find(driver, "add-account")).click();
    await addAccount(driver);
    // Two deletes on a quota of one: one is done, one waits for the next quota day.
    const boxes = await driver.findElements({ css: '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]' });
    for (const box of boxes.slice(0, 2)) await box.click();
    const totalBefore = Number(await (await find(driver, "article-count")).getAttribute("data-total"));
    await deleteSelection(driver, 2);
    // Overnight the account's IP is taken off its whitelist (checked on every call), and
    // Retract is opened again.
    await sim.configure({ whitelist: ["198.51.100.7"], quirks: { whitelist_on_business_calls: true } });
    const dataDir = app.dataDir;
    await app.close();
    app = await launch([], { RETRACT_API_BASE: sim.base }, { dataDir });
    driver = app.driver;

    await (await find(driver, "overview-button")).click();
    await attr(driver, "overview-totals", "data-accounts", "2");
    const rows = await driver.findElements(byTestId("overview-row"));
    assert.equal(rows.length, 2);
    const byName = {};
    for (const row of rows) byName[(await row.getAttribute("data-demo")) === "true" ? "demo" : "sim"] = row;
    await driver.wait(async () => (await byName.sim.getAttribute("data-quota")) === "error" && (await byName.demo.getAttribute("data-quota")) !== "loading", 20000, "both quotas answered");
    assert.equal(await byName.sim.getAttribute("data-waiting"), "1");
    assert.equal(await byName.sim.getAttribute("data-attention"), "1");
    assert.match(await byName.sim.getAttribute("textContent"), /203\.0\.113\.45/, "the refused IP is named");
    assert.equal(await byName.demo.getAttribute("data-attention"), "0");
    assert.equal(await byName.demo.getAttribute("data-waiting"), "0");
    assert.equal(await byName.demo.getAttribute("data-quota"), "10");
    assert.equal(await byName.demo.getAttribute("data-articles"), "0", "the demo starts afresh each run");
    assert.equal(await byName.sim.getAttribute("data-articles"), String(totalBefore - 1), "the index less the deleted article");
    await attr(driver, "overview-totals", "data-attention", "1");
    await shootBoth(driver, "overview");

    await (await byName.demo.findElement(byTestId("overview-open"))).click();
    await find(driver, "demo-badge");
    await find(driver, "article-list");
  });
});

describe("undo by draft", () => {
  let world;
  let driver;

  before(async () => {
    world = await appWithAccount(20);
    driver = world.driver;
  });

  after(async () => world?.close());

  async function deleteFirstLive() {
    await (await find(driver, "tab-browser")).click();
    const box = await firstLiveBox(driver);
    await box.click();
    await deleteSelection(driver, 1);
  }

  it("re-creates a deleted article as a draft after saying what does not come back, and records it", async () => {
    await deleteFirstLive();
    await (await find(driver, "tab-deleted")).click();
    const row = await find(driver, "deleted-row");
    const [articleId, index] = [await row.getAttribute("data-article-id"), Number(await row.getAttribute("data-index"))];
    const source = (await world.sim.links()).find((l) => l.article_id === articleId && l.idx === index);
    await (await row.findElement(byTestId("restore-draft"))).click();
    await find(driver, "restore-dialog");
    assert.equal(await (await driver.switchTo().activeElement()).getAttribute("data-testid"), "restore-cancel", "Cancel has the focus");
    await shootBoth(driver, "restore-draft");
    await (await find(driver, "restore-confirm")).click();
    const done = await find(driver, "restore-done");
    const drafts = await world.sim.drafts();
    assert.equal(drafts.length, 1);
    assert.equal(await done.getAttribute("data-media-id"), drafts[0].media_id);
    assert.equal(drafts[0].articles.length, 1);
    assert.equal(drafts[0].articles[0].title, source.title);
    assert.equal(drafts[0].articles[0].thumb_media_id, source.cover);
    await shootBoth(driver, "restore-draft-done");
    await (await find(driver, "restore-close")).click();
    await find(driver, "deleted-restored");
    // The activity log records it.
    await (await find(driver, "tab-audit")).click();
    await driver.wait(async () => (await driver.findElements({ css: '[data-testid="audit-row"][data-action="draft_restored"]' })).length === 1, 10000, "the restore is in the activity log");
  });

  it("explains a refusal (the cover was deleted from the library since) and makes nothing", async () => {
    await deleteFirstLive();
    await (await find(driver, "tab-deleted")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("deleted-row"))).length === 2, 10000);
    // Newest first: the article just deleted.
    const row = (await driver.findElements(byTestId("deleted-row")))[0];
    const [articleId, index] = [await row.getAttribute("data-article-id"), Number(await row.getAttribute("data-index"))];
    const source = (await world.sim.links()).find((l) => l.article_id === articleId && l.idx === index);
    await world.sim.configure({ delete_material: source.cover });
    await (await row.findElement(byTestId("restore-draft"))).click();
    await (await find(driver, "restore-confirm")).click();
    await attr(driver, "restore-failed", "data-errcode", "40007");
    assert.equal((await world.sim.drafts()).length, 1, "no second draft");
    assert.equal(await world.sim.count("/cgi-bin/draft/add"), 2, "one request per restore, no retry");
    await shootBoth(driver, "restore-draft-refused");
  });

  it("takes a lost answer as 'a draft may exist' and says so before the next attempt", async () => {
    await (await find(driver, "restore-cancel")).click();
    const row = (await driver.findElements(byTestId("deleted-row")))[1];
    await world.sim.fault("/cgi-bin/draft/add", { kind: "lose_response" }, 1);
    await (await row.findElement(byTestId("restore-draft"))).click();
    await (await find(driver, "restore-confirm")).click();
    await find(driver, "restore-failed");
    assert.equal((await world.sim.drafts()).length, 2, "WeChat made it; the answer was lost");
    await (await find(driver, "restore-cancel")).click();
    const again = (await driver.findElements(byTestId("deleted-row")))[1];
    await (await again.findElement(byTestId("restore-draft"))).click();
    await find(driver, "restore-may-exist");
    await shootBoth(driver, "restore-draft-may-exist");
    await (await find(driver, "restore-cancel")).click();
    assert.equal(await world.sim.count("/cgi-bin/draft/add"), 3, "nothing sent without the operator's click");
  });
});

describe("a list in another order", () => {
  let world;

  after(async () => world?.close());

  it("says when WeChat lists oldest first and how the sync read it", async () => {
    world = await appWithAccount(45, { quirks: { oldest_first: true } });
    await attr(world.driver, "sync-order", "data-order", "oldestFirst");
    await shootBoth(world.driver, "sync-oldest-first");
  });
});

describe("scheduled deletion", () => {
  let sim;
  let app;
  let driver;
  const pad = (n) => String(n).padStart(2, "0");

  before(async () => {
    sim = await startSim(20);
    app = await launch([], { RETRACT_API_BASE: sim.base, RETRACT_SCHEDULER_SECS: "2" });
    driver = app.driver;
    await addAccount(driver);
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  /** Plans the first live article and schedules it for `at` (a Date on this computer's clock). */
  async function scheduleFirstLive(at) {
    const box = await firstLiveBox(driver);
    await box.click();
    await (await find(driver, "delete-button")).click();
    await (await find(driver, "when-later")).click();
    const iso = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
    await (await find(driver, "when-day")).sendKeys(iso, Key.ENTER);
    await (await find(driver, "when-clock")).sendKeys(`${pad(at.getHours())}:${pad(at.getMinutes())}`);
    await attr(driver, "when-at", "data-at", String(Math.floor(at.getTime() / 1000)));
  }

  it("states the time in both steps, waits in the queue sending nothing, and runs by itself at that time", async () => {
    // The next whole minute at least 61 seconds away: the earliest a schedule accepts.
    const at = new Date(Math.ceil((Date.now() + 61_000) / 60_000) * 60_000);
    await scheduleFirstLive(at);
    await shootBoth(driver, "schedule-step1");
    await (await find(driver, "confirm-step1-continue")).click();
    await find(driver, "confirm-step2-at");
    await typeConfirmation(driver, "1");
    await shootBoth(driver, "schedule-step2");
    await (await find(driver, "confirm-schedule")).click();
    await attr(driver, "schedule-result", "data-at", String(at.getTime() / 1000));
    await (await find(driver, "schedule-done")).click();
    const line = await find(driver, "queue-scheduled");
    assert.equal(await line.getAttribute("data-at"), String(at.getTime() / 1000));
    assert.equal(await line.getAttribute("data-overdue"), "false");
    await shootBoth(driver, "queue-scheduled");
    assert.equal(await sim.count(DELETE), 0, "nothing is sent before the time");

    // The time comes: the scheduler (every 2 s here) runs it, with nobody clicking.
    const wait = at.getTime() - Date.now() + 15_000;
    await driver.wait(async () => (await sim.count(DELETE)) === 1, wait, "the scheduled delete was sent at its time");
    const sent = (await sim.requests()).filter((r) => r.path === DELETE);
    assert.equal(sent.length, 1);
    await driver.wait(async () => (await driver.findElements(byTestId("queue-scheduled"))).length === 0, 10000, "the queue no longer shows it as scheduled");
  });

  it("asks the operator about a plan that missed its time while Retract was closed", async () => {
    const at = new Date(Math.ceil((Date.now() + 3_600_000) / 60_000) * 60_000);
    await scheduleFirstLive(at);
    await (await find(driver, "confirm-step1-continue")).click();
    await typeConfirmation(driver, "1");
    await (await find(driver, "confirm-schedule")).click();
    await (await find(driver, "schedule-done")).click();
    await find(driver, "queue-scheduled");
    // Retract was closed; two hours pass; it starts again.
    const dataDir = app.dataDir;
    await app.close();
    sql(dataDir, `UPDATE plans SET not_before = ${Math.floor(Date.now() / 1000) - 2 * 3600} WHERE not_before IS NOT NULL`);
    app = await launch([], { RETRACT_API_BASE: sim.base, RETRACT_SCHEDULER_SECS: "2" }, { dataDir });
    driver = app.driver;
    const line = await attr(driver, "queue-scheduled", "data-overdue", "true");
    await new Promise((r) => setTimeout(r, 5000));
    assert.equal(await sim.count(DELETE), 1, "a late plan does not run by itself");
    assert.ok(line);
    await shootBoth(driver, "queue-overdue");
    // Run now opens the plan's review first: what it deletes, from which account, then the run.
    await (await find(driver, "scheduled-run-now")).click();
    await find(driver, "overdue-review-items");
    await shootBoth(driver, "queue-overdue-review");
    assert.equal(await sim.count(DELETE), 1, "opening the review sent the delete");
    await (await find(driver, "overdue-review-run")).click();
    await driver.wait(async () => (await sim.count(DELETE)) === 2, 20000, "run now sends it");
    await driver.wait(async () => (await driver.findElements(byTestId("queue-scheduled"))).length === 0, 10000);
  });
});
