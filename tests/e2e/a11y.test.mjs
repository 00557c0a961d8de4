// Accessibility, measured: axe-core (WCAG 2.1 A/AA) on every main screen of the real window —
// the demo browser, both confirm steps, find by link, the activity log, all accounts, the system
// check, the wizard — in
// both languages, light and dark. No violation of serious or critical impact may remain.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Key } from "selenium-webdriver";
import { accessibilityProblems, find, launch } from "./harness.mjs";

async function visitAll(driver) {
  const problems = [];
  const count = await find(driver, "article-count");
  await driver.wait(async () => Number(await count.getAttribute("data-total")) > 0, 20000, "the demo list stayed empty");
  problems.push(...(await accessibilityProblems(driver, "browser")));

  await (await find(driver, "select-item")).click();
  await (await find(driver, "delete-button")).click();
  await find(driver, "confirm-step1-continue");
  problems.push(...(await accessibilityProblems(driver, "confirm step 1")));
  await (await find(driver, "confirm-step1-continue")).click();
  await find(driver, "confirm-phrase-input");
  problems.push(...(await accessibilityProblems(driver, "confirm step 2")));
  await (await driver.switchTo().activeElement()).sendKeys(Key.ESCAPE);
  await driver.wait(async () => (await driver.findElements({ css: '[data-testid="confirm-phrase-input"]' })).length === 0, 5000);

  await (await find(driver, "paste-links")).click();
  await find(driver, "links-input");
  problems.push(...(await accessibilityProblems(driver, "find by link")));
  await (await find(driver, "links-cancel")).click();

  await (await find(driver, "tab-audit")).click();
  await find(driver, "audit-this-account");
  problems.push(...(await accessibilityProblems(driver, "activity log")));

  await (await find(driver, "overview-button")).click();
  await find(driver, "overview-row");
  problems.push(...(await accessibilityProblems(driver, "all accounts")));

  await (await find(driver, "system-check")).click();
  await find(driver, "log-card");
  problems.push(...(await accessibilityProblems(driver, "system check")));

  await (await find(driver, "add-account")).click();
  await find(driver, "wizard");
  problems.push(...(await accessibilityProblems(driver, "wizard")));
  return problems;
}

for (const [theme, env] of [["light", {}], ["dark", { GTK_THEME: "Adwaita:dark" }]]) {
  describe(`accessibility, ${theme}`, () => {
    let app;

    before(async () => {
      app = await launch(["--demo"], env);
    });

    after(async () => {
      await app?.close();
    });

    it("no serious or critical axe-core violation on any main screen, in either language", async () => {
      const problems = await visitAll(app.driver);
      assert.deepEqual(problems, [], JSON.stringify(problems, null, 2));
    });
  });
}
