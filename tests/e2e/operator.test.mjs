// The operator's view (issue 20): which account a delete is from, covers in the list, and the
// window's words in Chinese. Real app, real simulator process, real keyring.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { accessibilityProblems, attr, byTestId, deleteSelection, find, launch, shootBoth, textOf, typeConfirmation, until } from "./harness.mjs";
import { addAccount, appWithAccount, startSim } from "./sim.mjs";

const DELETE = "/cgi-bin/freepublish/delete";

async function liveBox(driver) {
  const boxes = await driver.findElements({ css: '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]' });
  assert.ok(boxes.length > 0, "no live article in the list");
  return boxes[0];
}

/** Covers in the list: how many loaded as pictures, how many show the placeholder. */
async function covers(driver) {
  return driver.executeScript(`
    const imgs = [...document.querySelectorAll('[data-testid="article-cover"]')];
    return {
      loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
      pending: imgs.filter((i) => !i.complete).length,
      placeholders: document.querySelectorAll('[data-testid="cover-placeholder"]').length,
    };`);
}

describe("two accounts: the delete is from the account you name", () => {
  let world;
  let sim;
  let driver;

  before(async () => {
    world = await appWithAccount(30, null, { args: ["--demo"] });
    ({ sim, driver } = world);
  });

  after(async () => {
    await world?.close();
  });

  it("shows each article's cover, served by WeChat's (here: the simulator's) image host", async () => {
    await driver.wait(async () => {
      const c = await covers(driver);
      return c.loaded > 0 && c.pending === 0;
    }, 20000, "no cover loaded");
    const c = await covers(driver);
    assert.equal(c.placeholders, 0, "a cover the host serves fell back to the placeholder");
    await shootBoth(driver, "list-covers");
    assert.deepEqual(await accessibilityProblems(driver, "list-covers"), []);
  });

  it("step 2 asks for the account's name as well as the number, and refuses another account's", async () => {
    await (await liveBox(driver)).click();
    await (await find(driver, "delete-button")).click();
    const step1 = await find(driver, "confirm-account");
    assert.match(await textOf(step1), /从「测试服务号」（wx5e7d1c0ffee0a1b2）删除/);
    await (await find(driver, "confirm-step1-continue")).click();
    await (await find(driver, "confirm-phrase-input")).sendKeys("1");
    const name = await find(driver, "confirm-account-input");
    const button = await find(driver, "confirm-delete");
    assert.equal(await button.isEnabled(), false, "the number alone unlocked the delete");
    // The other account's name (the demo's, same AppID) does not pass.
    const other = (await driver.executeScript(
      "return [...document.querySelectorAll('[data-testid=account-switcher] option')].map((o) => o.textContent)",
    )).find((label) => !label.includes("测试服务号"));
    assert.ok(other, "the demo account is not listed");
    await name.sendKeys(other.replace(/（.*$/, ""));
    await find(driver, "confirm-account-mismatch");
    assert.equal(await button.isEnabled(), false, "another account's name unlocked the delete");
    await shootBoth(driver, "confirm-step2-account-name");
    assert.deepEqual(await accessibilityProblems(driver, "confirm-step2-account-name"), []);
    await name.clear();
    await name.sendKeys(" 测试服务号 ");
    await driver.wait(async () => button.isEnabled(), 5000, "the right name did not unlock the delete");
    await (await find(driver, "confirm-step2-back")).click();
    await find(driver, "confirm-step1");
    await (await find(driver, "confirm-step1-cancel")).click();
    await driver.wait(async () => (await driver.findElements(byTestId("confirm-dialog"))).length === 0, 5000);
    assert.equal(await sim.count(DELETE), 0, "a delete was sent");
  });

  it("says a wait for WeChat as information, in Chinese, with the details folded", async () => {
    const clear = await driver.findElements(byTestId("clear-selection"));
    if (clear.length > 0) await clear[0].click();
    // WeChat shows a delete a minute late. Item 1 of a message goes; item 2 of the same message,
    // right after, waits until WeChat can show the first (positions may move).
    await sim.configure({ quirks: { lag_secs: 60 } });
    const lead = await driver.findElement({ css: '[data-testid="article-row"][data-deleted="false"][data-item-count="3"][data-index="1"]' });
    const id = await lead.getAttribute("data-article-id");
    const box = (index) =>
      driver.wait(until.elementLocated({ css: `[data-testid="article-row"][data-article-id="${id}"][data-index="${index}"] [data-testid="select-item"]` }), 10000);
    await (await box(1)).click();
    await deleteSelection(driver, 1);
    await (await box(2)).click();
    await (await find(driver, "delete-button")).click();
    await (await find(driver, "confirm-step1-continue")).click();
    await typeConfirmation(driver, 1);
    await (await find(driver, "confirm-delete")).click();
    await attr(driver, "deletion-results", "data-state", "done", 40000);
    const outcomes = await Promise.all((await driver.findElements(byTestId("deletion-result"))).map((r) => r.getAttribute("data-outcome")));
    assert.deepEqual(outcomes, ["waitingForCheck"]);
    assert.equal(await sim.count(DELETE), 1, "the second delete went out before WeChat showed the first");
    for (const banner of await driver.findElements(byTestId("error-banner"))) {
      assert.notEqual(await banner.getAttribute("data-tone"), "failure", "a wait the queue resolves itself is shown as a failure");
    }
    await shootBoth(driver, "deletion-results-waiting");
    await (await find(driver, "deletion-done")).click();
    await (await find(driver, "tab-queue")).click();
    const queue = await find(driver, "queue-status");
    assert.equal(await queue.getAttribute("data-tone"), "neutral");
    const total = Number(await queue.getAttribute("data-total"));
    const parts = await Promise.all((await queue.findElements({ css: ".part" })).map((p) => p.getAttribute("data-count")));
    assert.equal(parts.map(Number).reduce((a, b) => a + b, 0), total, "the queue's counts do not add up");
    await shootBoth(driver, "queue-tab");
    assert.deepEqual(await accessibilityProblems(driver, "queue-tab"), []);
    await (await find(driver, "tab-browser")).click();
  });
});

describe("a cover the host does not serve", () => {
  it("leaves a clean placeholder", async () => {
    const sim = await startSim(12);
    await sim.configure({ quirks: { broken_covers: true } });
    const app = await launch([], { RETRACT_API_BASE: sim.base });
    try {
      await addAccount(app.driver);
      await app.driver.wait(async () => (await covers(app.driver)).placeholders > 0, 20000, "no placeholder shown for a broken cover");
      const c = await covers(app.driver);
      assert.equal(c.loaded, 0, "a cover loaded though the host refused it");
      await shootBoth(app.driver, "list-covers-broken");
    } finally {
      await app.close();
      sim.stop();
    }
  });
});
