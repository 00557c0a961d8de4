// Work that goes on by itself: a plan larger than today's quota continues when the quota day
// comes, run by the Rust scheduler while the window shows another account; the system check
// turns start-at-login on and off (off by default).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attr, byTestId, deleteSelection, find, groupProcesses, launch, logText, setLocale, shootBoth, sql } from "./harness.mjs";
import { addAccount, appWithAccount, startSim } from "./sim.mjs";
import { clickTray, trayItems } from "./tray.mjs";

const DELETE = "/cgi-bin/freepublish/delete";


/** The visible, not yet deleted rows' checkboxes, once the list has rendered. */
async function liveBoxes(driver) {
  const css = '[data-testid="article-row"][data-deleted="false"] [data-testid="select-item"]';
  await driver.wait(async () => (await driver.findElements({ css })).length >= 4, 15000, "the list did not render");
  return driver.findElements({ css });
}

async function pick(driver, labelPart) {
  const switcher = await find(driver, "account-switcher");
  for (const option of await switcher.findElements({ css: "option" })) {
    if ((await option.getText()).includes(labelPart)) {
      await option.click();
      return;
    }
  }
  throw new Error(`no account named like ${labelPart}`);
}

describe("the scheduler, with the account's browser not on screen", () => {
  let sim;
  let app;
  let driver;
  // Its own home: start-at-login writes ~/.config/autostart/Retract.desktop.
  const home = mkdtempSync(join(tmpdir(), "retract-home-"));

  let world;

  before(async () => {
    // The demo account is there too: the window can show it instead of ours.
    world = await appWithAccount(30, { delete_daily_limit: 1 }, { args: ["--demo"], env: { RETRACT_SCHEDULER_SECS: "2", HOME: home } });
    ({ sim, app, driver } = world);
  });

  after(async () => {
    await world?.close();
  });

  it("turns start at login on and off, off by default", async () => {
    await (await find(driver, "system-check")).click();
    const box = await find(driver, "autostart");
    await driver.wait(async () => (await box.isEnabled()), 10000);
    assert.equal(await box.isSelected(), false, "off by default");
    const entry = join(home, ".config", "autostart", "Retract.desktop");
    await box.click();
    await driver.wait(async () => existsSync(entry), 10000, `no ${entry}`);
    assert.equal(await box.isSelected(), true);
    await shootBoth(driver, "system-check-background");
    await box.click();
    await driver.wait(async () => !existsSync(entry), 10000, "the login entry stayed");
    await (await find(driver, "system-check")).click();
  });
  it("resumes a waiting plan when the quota day comes, and the window hears of it", async () => {
    const rows = await liveBoxes(driver);
    for (const box of rows.slice(0, 2)) await box.click();
    await deleteSelection(driver, 2);
    await attr(driver, "queue-status", "data-waiting", "1");
    assert.equal(await sim.count(DELETE), 2, "one deleted, one refused for quota");

    // Show the demo account instead: our account's browser is not on screen from here on.
    await pick(driver, "Demo");
    await find(driver, "demo-badge");
    // The quota day comes: WeChat's counters are fresh, and the pause ends.
    await sim.configure({ delete_daily_limit: 10 });
    sql(app.dataDir, "UPDATE accounts SET queue_paused_until = strftime('%s','now') - 1 WHERE is_demo = 0");
    await driver.wait(async () => (await sim.count(DELETE)) === 3, 30000, "the scheduler did not resume the queue");
    await shootBoth(driver, "scheduler-resumed-elsewhere");

    // Back on our account: nothing waits any more, both articles are struck through.
    await pick(driver, "wx5e7d1c0ffee0a1b2");
    await driver.wait(async () => (await driver.findElements(byTestId("queue-status"))).length === 0, 15000, "the queue panel still shows work");
    await driver.wait(async () => (await driver.findElements({ css: '[data-testid="article-row"][data-deleted="true"]' })).length === 2, 15000);
    await shootBoth(driver, "scheduler-resumed-done");
    const log = readdirSync(join(app.dataDir, "logs")).length;
    assert.ok(log > 0);
  });



  it("keeps running in the tray when the window is closed with work queued, and finishes it", async () => {
    // Today's quota is nearly used up again, and two more are confirmed: what is over waits.
    await sim.configure({ delete_daily_limit: 3 });
    await pick(driver, "wx5e7d1c0ffee0a1b2");
    // Articles of messages untouched so far (a message with a fresh delete waits 30 s first).
    const rows = await liveBoxes(driver);
    for (const box of rows.slice(-2)) await box.click();
    await deleteSelection(driver, 2, () => find(driver, "deletion-paused"));
    const waiting = Number(await (await find(driver, "queue-status")).getAttribute("data-waiting"));
    assert.ok(waiting >= 1, "something waits for tomorrow");
    const sentBefore = await sim.count(DELETE);
    const log = () => logText(app.dataDir);
    // The window shows English: what Retract says outside it (notifications, the tray) follows.
    // (The earlier test's notification was said in Chinese, the window's language then.)
    await setLocale(driver, "en");
    const since = log().length;
    const saidSince = () => log().slice(since);
    // Close the window as its close button does (the operator goes home). Retract stays, in
    // the tray.
    execFileSync("/usr/bin/python3", [join(import.meta.dirname, "close-window.py"), "Retract"]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.match(log(), new RegExp(`window closed with work queued: running in the tray queued=${waiting}`));
    const queuedWord = waiting === 1 ? "delete is" : "deletes are";
    assert.match(saidSince(), new RegExp(`desktop notification text="Retract keeps running in the tray: ${waiting} ${queuedWord} still queued\\."`));
    assert.doesNotMatch(saidSince(), /desktop notification text="[^"]*托盘/, "said in Chinese while the window shows English");
    // The window is gone, web process and all: only the tray and the scheduler stay.
    assert.match(saidSince(), /the window is closed and its web view released; Retract goes on in the tray/);
    const webProcesses = () => groupProcesses(app.group, "WebKitWebProces");
    const gone = Date.now() + 10000;
    while (webProcesses().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual(webProcesses(), [], "a WebKit web process outlived the closed window");
    const queuedLabel = waiting === 1 ? "Quit (1 delete still waiting)" : `Quit (${waiting} deletes still waiting)`;
    assert.ok(trayItems().some((i) => i.label === queuedLabel), `the tray menu says what waits: ${JSON.stringify(trayItems())}`);
    // The operator opens it again from the tray: a new window, which finds the queue as it was.
    clickTray(/^Open Retract$/);
    await driver.wait(async () => (await driver.getAllWindowHandles()).length === 1, 15000, "the tray did not open the window again");
    await driver.switchTo().window((await driver.getAllWindowHandles())[0]);
    assert.match(saidSince(), /the window is open again \(from the tray\)/);
    await pick(driver, "wx5e7d1c0ffee0a1b2");
    await attr(driver, "queue-status", "data-waiting", String(waiting));
    assert.equal(await sim.count(DELETE), sentBefore, "opening the window sent nothing");
    await shootBoth(driver, "tray-reopened");
    await setLocale(driver, "en");
    // And closes it again: back to the tray.
    const again = log().length;
    execFileSync("/usr/bin/python3", [join(import.meta.dirname, "close-window.py"), "Retract"]);
    const back = Date.now() + 10000;
    while (!/running in the tray/.test(log().slice(again)) && Date.now() < back) await new Promise((r) => setTimeout(r, 250));
    assert.match(log().slice(again), new RegExp(`window closed with work queued: running in the tray queued=${waiting}`));
    // The next quota day: the scheduler, in a process with no window on screen, sends both.
    await sim.configure({ delete_daily_limit: 10 });
    sql(app.dataDir, "UPDATE accounts SET queue_paused_until = strftime('%s','now') - 1 WHERE is_demo = 0");
    const deadline = Date.now() + 30000;
    while ((await sim.count(DELETE)) < sentBefore + waiting && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await sim.count(DELETE), sentBefore + waiting, "the queue did not finish with the window closed");
    assert.match(log(), /scheduler: running a queue whose quota day, scheduled time or check came/);
    // And when it is done, the notification says so, in English too.
    const said = Date.now() + 10000;
    while (!/desktop notification text="[^"]*the deletion queue is done; \d+ deleted in all\."/.test(saidSince()) && Date.now() < said) await new Promise((r) => setTimeout(r, 250));
    assert.match(saidSince(), /desktop notification text="[^"]*the deletion queue is done; \d+ deleted in all\."/);
    assert.doesNotMatch(saidSince(), /desktop notification text="[^"]*已完成/);
  });
});

describe("a quota pause that ended long ago", () => {
  let sim;
  let app;

  before(async () => {
    sim = await startSim(10);
    app = await launch([], { RETRACT_API_BASE: sim.base, RETRACT_SCHEDULER_SECS: "2" });
    await addAccount(app.driver);
  });

  after(async () => {
    await app?.close();
    sim?.stop();
  });

  it("does not send by itself what waited more than 12 hours past it, says so, and sends on Resume", async () => {
    await sim.configure({ delete_daily_limit: 1 });
    for (const box of (await liveBoxes(app.driver)).slice(0, 2)) await box.click();
    await deleteSelection(app.driver, 2);
    await attr(app.driver, "queue-status", "data-waiting", "1");
    const before = await sim.count(DELETE);
    // Retract is closed, and opened again long after the pause ended (13 hours; or the file
    // came from a backup): WeChat's quota is back, but the scheduler does not send by itself.
    const dataDir = app.dataDir;
    await app.close();
    await sim.configure({ delete_daily_limit: 10 });
    sql(dataDir, "UPDATE accounts SET queue_paused_until = strftime('%s','now') - 13 * 3600 WHERE is_demo = 0");
    app = await launch([], { RETRACT_API_BASE: sim.base, RETRACT_SCHEDULER_SECS: "2" }, { dataDir });
    const driver = app.driver;
    await find(driver, "queue-resume-overdue", 15000);
    await driver.sleep(5000); // two scheduler ticks
    assert.equal(await sim.count(DELETE), before, "nothing sent by itself");
    await shootBoth(driver, "queue-resume-overdue");
    await (await find(driver, "queue-resume")).click();
    await driver.wait(async () => (await sim.count(DELETE)) === before + 1, 15000, "Resume did not send it");
  });
});

describe("the tray, in a process renewed without a window", () => {
  it("lets every WebKit process go, keeps the queue and the language, opens the window again and quits from the tray", async () => {
    // Work made through the window: two deletes, one over today's quota, which waits.
    const sim = await startSim(20);
    let child;
    try {
      await sim.configure({ delete_daily_limit: 1 });
      const app = await launch([], { RETRACT_API_BASE: sim.base });
      await addAccount(app.driver);
      for (const box of (await liveBoxes(app.driver)).slice(0, 2)) await box.click();
      await deleteSelection(app.driver, 2);
      await attr(app.driver, "queue-status", "data-waiting", "1");
      await setLocale(app.driver, "en");
      const dataDir = app.dataDir;
      await app.close();
      const sent = await sim.count(DELETE);

      // Retract as the operator starts it (no WebDriver), on the same data, secret and language.
      const env = { ...process.env, RETRACT_DATA_DIR: dataDir, XDG_DATA_HOME: join(dataDir, "xdg-data"), XDG_CACHE_HOME: join(dataDir, "xdg-cache"), RETRACT_SOFTWARE_RENDERING: "1", RETRACT_API_BASE: sim.base, RETRACT_TRAY_SETTLE_SECS: "1" };
      delete env.TAURI_WEBVIEW_AUTOMATION;
      child = spawn(process.env.RETRACT_APP, [], { env, stdio: "ignore", detached: true });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      const log = () => logText(dataDir);
      const wait = async (ok, what, ms = 20000) => {
        const deadline = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > deadline) throw new Error(`${what}\n${log().slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      const renewals = () => (log().match(/renewed in the tray, without a window/g) ?? []).length;
      const closeWindow = () => spawnSync("/usr/bin/python3", [join(import.meta.dirname, "close-window.py"), "Retract"]).status === 0;
      const webkit = () => groupProcesses(child.pid, "WebKit");

      // The window shows (and tells Rust its language); then the operator closes it.
      await wait(() => webkit().length >= 2, "the window's WebKit processes did not start");
      await new Promise((r) => setTimeout(r, 3000));
      await wait(closeWindow, "no window to close");
      await wait(() => renewals() === 1, "the process was not renewed in the tray");
      assert.match(log(), /renewing the process in the tray/);
      // The same process (same id), without any WebKit process: the web and the network
      // process are gone with the window.
      process.kill(child.pid, 0);
      assert.deepEqual(webkit(), [], "a WebKit process outlived the renewal");
      // The tray shows what waits, in the window's language.
      await wait(() => trayItems().some((i) => i.label === "Quit (1 delete still waiting)"), `the tray menu does not say what waits: ${JSON.stringify(trayItems())}`);

      // Open from the tray: the window is built again, and closing it renews the process again.
      clickTray(/^Open Retract$/);
      await wait(() => webkit().length >= 2, "the tray did not open the window again");
      await new Promise((r) => setTimeout(r, 3000));
      await wait(closeWindow, "no window to close after opening it from the tray");
      await wait(() => renewals() === 2, "the process was not renewed after the second close");
      assert.equal(await sim.count(DELETE), sent, "nothing was sent by opening, closing or renewing");

      // Quit from the tray ends it.
      clickTray(/^Quit/);
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running"), 10000))]);
      assert.notEqual(code, "still running", "Quit in the tray did not end Retract");
    } finally {
      if (child?.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      sim.stop();
    }
  });
});
