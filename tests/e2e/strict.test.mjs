// The promise against a WeChat we cannot see, in the real window: the three ways a relay in
// the middle broke it when tried as a new user would. A relay answering `{}` to a delete is not
// "deleted"; an empty `news_item` before a delete stops the run and sends nothing; one empty
// page in a full re-sync marks nothing deleted. Each against the simulator in that world.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { byTestId, attr, find, firstOf, shootBoth, until, typeConfirmation } from "./harness.mjs";
import { appWithAccount } from "./sim.mjs";

const DELETE = "/cgi-bin/freepublish/delete";
const GETARTICLE = "/cgi-bin/freepublish/getarticle";
const BATCHGET = "/cgi-bin/freepublish/batchget";

const relay = (body) => ({ kind: "answer", status: 200, body, applied: false });

async function deletedRows(driver) {
  return (await driver.findElements({ css: '[data-testid="article-row"][data-deleted="true"]' })).length;
}

/** Ticks one live item (`pick` chooses among the live rows), confirms both steps and waits
 * for the results. */
async function deleteOneLiveItem(driver, pick = (rows) => rows[0]) {
  // The list re-renders after a run or a refresh: pick again if the row went stale meanwhile.
  let key;
  for (let attempt = 0; ; attempt++) {
    try {
      const row = pick(await driver.findElements({ css: '[data-testid="article-row"][data-deleted="false"]' }));
      key = { id: await row.getAttribute("data-article-id"), index: await row.getAttribute("data-index") };
      await (await row.findElement(byTestId("select-item"))).click();
      break;
    } catch (e) {
      if (e.name !== "StaleElementReferenceError" || attempt >= 3) throw e;
      await driver.sleep(300);
    }
  }
  await (await find(driver, "delete-button")).click();
  await (await find(driver, "confirm-step1-continue")).click();
  await typeConfirmation(driver, "1");
  await (await find(driver, "confirm-delete")).click();
  await attr(driver, "deletion-results", "data-state", "done", 30000);
  return key;
}

async function rowOf(driver, key) {
  const css = `[data-testid="article-row"][data-article-id="${key.id}"][data-index="${key.index}"]`;
  return driver.wait(until.elementLocated({ css }), 10000, `row ${key.id}#${key.index} is not listed`);
}

describe("a relay in the middle", () => {
  let world;
  let sim;
  let driver;

  before(async () => {
    world = await appWithAccount(30);
    ({ sim, driver } = world);
  });

  after(async () => world?.close());

  it("answering {} to a delete: the outcome is unknown, nothing is shown deleted", async () => {
    const remain = await (await find(driver, "quota-meter")).getAttribute("data-remain");
    await sim.fault(DELETE, relay("{}"));
    const key = await deleteOneLiveItem(driver);
    const outcome = await (await find(driver, "deletion-result")).getAttribute("data-outcome");
    assert.equal(outcome, "unknown", "never 'deleted' without WeChat's errcode 0");
    await shootBoth(driver, "relay-empty-object");
    await (await find(driver, "deletion-done")).click();
    assert.equal(await (await rowOf(driver, key)).getAttribute("data-deleted"), "false");
    assert.equal(await deletedRows(driver), 0);
    assert.equal(await (await find(driver, "quota-meter")).getAttribute("data-remain"), remain, "no quota spent at WeChat");
    // The queue shows it waits to be checked with WeChat; nothing more was sent.
    await find(driver, "queue-status");
    assert.equal(await sim.count(DELETE), 1);
    await shootBoth(driver, "relay-unknown-queue");
  });

  it("an empty news_item before a delete sends nothing and waits for the operator's word", async () => {
    const sent = await sim.count(DELETE);
    await sim.fault(GETARTICLE, relay('{"news_item":[]}'), 1);
    // Another message than the one whose outcome is still unknown: the last row listed.
    const key = await deleteOneLiveItem(driver, (rows) => rows[rows.length - 1]);
    const result = await find(driver, "deletion-result");
    assert.equal(await result.getAttribute("data-outcome"), "held");
    await shootBoth(driver, "relay-empty-news-item");
    await (await find(driver, "deletion-done")).click();
    assert.equal(await sim.count(DELETE), sent, "no delete sent on an empty answer");
    assert.equal(await (await rowOf(driver, key)).getAttribute("data-deleted"), "false");
    // The queue asks: nothing went out for it, so "give up" ends it with nothing sent.
    const held = await find(driver, "held-request", 20000);
    assert.equal(await held.getAttribute("data-may-have-been-sent"), "false");
    await shootBoth(driver, "held-unsent");
    await (await find(driver, "held-give-up")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("held-request"))).length === 0, 10000, "the held request stays listed");
    assert.equal(await sim.count(DELETE), sent);
  });

  it("one empty page in a full re-sync marks nothing deleted", async () => {
    // The full re-sync says what it costs and waits for a yes; Cancel sends nothing.
    const lists = await sim.count(BATCHGET);
    await (await find(driver, "full-sync-button")).click();
    const cost = await find(driver, "full-sync-cost");
    assert.equal(await cost.getAttribute("data-calls"), "2", "30 messages: 2 list calls");
    assert.match(await cost.getAttribute("data-remain"), /^\d+$/);
    await shootBoth(driver, "full-sync-confirm");
    await (await find(driver, "full-sync-cancel")).click();
    assert.equal(await sim.count(BATCHGET), lists, "cancelled: no list call");
    await sim.fault(BATCHGET, { kind: "pass" }, 1);
    await sim.fault(BATCHGET, relay('{"total_count":0,"item":[]}'), 1);
    await (await find(driver, "full-sync-button")).click();
    await (await find(driver, "full-sync-confirm")).click();
    await find(driver, "sync-incomplete", 30000);
    assert.equal(await deletedRows(driver), 0, "not one article struck through");
    await shootBoth(driver, "resync-empty-page");
  });
});

describe("evidence of WeChat's undocumented behaviour", () => {
  let world;
  let sim;
  let driver;

  before(async () => {
    world = await appWithAccount(30);
    ({ sim, driver } = world);
  });

  after(async () => world?.close());

  it("a delete that shows late is recorded and listed on the system-check screen", async () => {
    await (await find(driver, "system-check")).click();
    await find(driver, "observations-none");
    await driver.navigate().refresh();
    await find(driver, "article-list");
    // In this world WeChat shows a delete 20 s late.
    await sim.configure({ quirks: { lag_secs: 20 } });
    const third = await firstOf(driver, { css: '[data-testid="article-row"][data-index="3"][data-deleted="false"]' }, "live third article");
    const id = await third.getAttribute("data-article-id");
    for (const index of ["3", "2"]) {
      const row = await driver.findElement({ css: `[data-testid="article-row"][data-article-id="${id}"][data-index="${index}"]` });
      await (await row.findElement(byTestId("select-item"))).click();
    }
    await (await find(driver, "delete-button")).click();
    await (await find(driver, "confirm-step1-continue")).click();
    await typeConfirmation(driver, "2");
    await (await find(driver, "confirm-delete")).click();
    await attr(driver, "deletion-results", "data-state", "done", 30000);
    const outcomes = await Promise.all((await driver.findElements(byTestId("deletion-result"))).map((r) => r.getAttribute("data-outcome")));
    assert.deepEqual(outcomes, ["deleted", "deleted"]);
    await (await find(driver, "deletion-done")).click();
    await (await find(driver, "system-check")).click();
    const seen = await find(driver, "observation");
    assert.equal(await seen.getAttribute("data-behaviour"), "lateDelete");
    await shootBoth(driver, "system-check-observations");
  });
});
