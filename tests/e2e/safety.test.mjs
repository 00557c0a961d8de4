// The safety net in the real window: a plan larger than today's quota runs today's share and
// waits visibly; clear_quota is its own confirmed action; the archive and the activity log list
// what happened and export it; after an interrupted run the app checks with WeChat first and
// resumes only on the user's click.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
import { byTestId, attr, deleteSelection, find, firstOf, launch, shootBoth, sql, typeConfirmation } from "./harness.mjs";
import { DEMO_SECRET, addAccount, appWithAccount, startSim } from "./sim.mjs";

const DELETE = "/cgi-bin/freepublish/delete";


describe("a plan larger than today's quota", () => {
  let world;
  let sim;
  let app;
  let driver;

  before(async () => {
    world = await appWithAccount(40, { delete_daily_limit: 2 });
    ({ sim, app, driver } = world);
  });

  after(async () => world?.close());

  it("says how many days it needs, runs today's share and waits visibly", async () => {
    const rows = await driver.findElements({ css: '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]' });
    for (const box of rows.slice(0, 3)) await box.click();
    await (await find(driver, "delete-button")).click();
    await attr(driver, "confirm-days", "data-days", "2");
    await shootBoth(driver, "confirm-two-days");
    await (await find(driver, "confirm-step1-continue")).click();
    await typeConfirmation(driver, "3");
    await (await find(driver, "confirm-delete")).click();
    await attr(driver, "deletion-results", "data-state", "done", 30000);
    const outcomes = await Promise.all((await driver.findElements(byTestId("deletion-result"))).map((r) => r.getAttribute("data-outcome")));
    assert.deepEqual(outcomes.sort(), ["deleted", "deleted", "waitingForQuota"]);
    await find(driver, "deletion-paused");
    await shootBoth(driver, "deletion-waiting");
    await (await find(driver, "deletion-done")).click();
    const queue = await attr(driver, "queue-status", "data-waiting", "1");
    assert.equal(await queue.getAttribute("data-paused"), "true");
    assert.equal(await sim.count(DELETE), 3, "two deleted, one refused with 45009, nothing more");
    await shootBoth(driver, "queue-paused");
  });

  it("clears the quota only after its own confirmation, then the queue finishes", async () => {
    await (await find(driver, "clear-quota")).click();
    await find(driver, "clear-quota-dialog");
    assert.equal(await (await driver.switchTo().activeElement()).getAttribute("data-testid"), "clear-quota-cancel");
    await shootBoth(driver, "clear-quota");
    await (await driver.switchTo().activeElement()).sendKeys(Key.ESCAPE);
    assert.equal((await sim.requests()).filter((r) => r.path === "/cgi-bin/clear_quota").length, 0, "Escape sends nothing");
    await (await find(driver, "clear-quota")).click();
    await (await find(driver, "clear-quota-confirm")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("queue-status"))).length === 0 || (await (await find(driver, "queue-status")).getAttribute("data-waiting")) === "0", 20000);
    assert.equal((await sim.requests()).filter((r) => r.path === "/cgi-bin/clear_quota").length, 1);
    assert.equal(await sim.count(DELETE), 4);
  });

  it("lists and exports the deleted articles", async () => {
    await (await find(driver, "tab-deleted")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("deleted-row"))).length === 3, 10000);
    await (await find(driver, "export-archive")).click();
    const path = (await (await find(driver, "archive-exported")).getAttribute("textContent")).match(/(\/\S+)/)[1];
    assert.ok(path.startsWith(join(app.dataDir, "exports")), path);
    const files = readdirSync(path);
    assert.equal(files.filter((f) => f.endsWith(".json")).length, 3);
    assert.ok(files.some((f) => f.endsWith(".html")));
    await shootBoth(driver, "deleted");
  });

  it("shows the activity log with the 45009 request, looks up its rid and exports CSV", async () => {
    await (await find(driver, "tab-audit")).click();
    const refused = await find(driver, "audit-row");
    await driver.wait(async () => (await driver.findElements({ css: '[data-testid="audit-row"][data-errcode="45009"]' })).length === 1, 10000);
    assert.ok(refused);
    const row = await driver.findElement({ css: '[data-testid="audit-row"][data-errcode="45009"]' });
    await (await row.findElement(byTestId("lookup-rid"))).click();
    const rid = await find(driver, "rid-result");
    assert.match(await rid.getAttribute("textContent"), /203\.0\.113\.45/);
    await (await find(driver, "export-audit")).click();
    const csvPath = (await (await find(driver, "audit-exported")).getAttribute("textContent")).match(/(\/\S+\.csv)/)[1];
    const csv = readFileSync(csvPath, "utf8");
    assert.match(csv, /delete_request/);
    assert.match(csv, /45009/);
    assert.doesNotMatch(csv, new RegExp(DEMO_SECRET));
    await shootBoth(driver, "audit");
  });
});

describe("after an interrupted run", () => {
  let sim;
  let first;
  let second;

  before(async () => {
    sim = await startSim(20);
  });

  after(async () => {
    await second?.close();
    sim?.stop();
  });

  it("checks with WeChat first, holds what it cannot settle for the operator's word, and sends again only when told", async () => {
    first = await launch([], { RETRACT_API_BASE: sim.base });
    const driver = first.driver;
    await addAccount(driver);
    const box = await firstOf(driver, { css: '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]' }, "live article");
    await box.click();
    // Confirmed through the window (so the plan carries this Retract's seal); WeChat refuses
    // the delete for quota (45009), so nothing is applied and the plan stays confirmed.
    await sim.fault(DELETE, { kind: "errcode", code: 45009 }, 1);
    await deleteSelection(driver, 1);
    await first.close();
    const refused = await sim.count(DELETE); // the one WeChat refused with 45009
    // As if the app died after journaling `sent`: a confirmed plan whose only delete may or
    // may not have left (WeChat never got it). Sent 700 s ago; a first check 50 s after that
    // found it live; the second, deciding check is due 600 s after the first.
    sql(first.dataDir, "UPDATE accounts SET queue_paused_until = NULL, queue_wake_at = NULL");
    sql(first.dataDir, "UPDATE plan_targets SET state = 'sent', outcome = NULL, updated_at = updated_at - 700, seen_live_at = updated_at - 650 WHERE plan_id = (SELECT max(id) FROM plans)");
    sql(first.dataDir, "INSERT INTO journal_events (plan_id, seq, state, at) SELECT plan_id, seq, 'sent', updated_at FROM plan_targets WHERE plan_id = (SELECT max(id) FROM plans)");

    second = await launch([], { RETRACT_API_BASE: sim.base }, { dataDir: first.dataDir });
    const d = second.driver;
    const finding = await find(d, "reconcile-finding", 20000);
    assert.equal(await finding.getAttribute("data-now"), "held", "live on two checks far apart: it waits for the operator");
    const held = await find(d, "held-request", 20000);
    assert.equal(await held.getAttribute("data-may-have-been-sent"), "true");
    await d.sleep(1500);
    assert.equal(await sim.count(DELETE), refused, "nothing is sent by itself");
    await shootBoth(d, "held-decision");
    // "Send again" asks first: the last request may have been applied.
    await (await find(d, "held-send-again")).click();
    await find(d, "held-send-again-dialog");
    await shootBoth(d, "held-send-again");
    await (await find(d, "held-send-again-confirm")).click();
    await find(d, "queue-note");
    assert.equal(await sim.count(DELETE), refused, "the statement alone sends nothing");
    await (await find(d, "queue-resume")).click();
    await d.wait(async () => (await sim.count(DELETE)) === refused + 1, 20000);
    assert.ok(existsSync(join(first.dataDir, "retract.db")));
  });
});
