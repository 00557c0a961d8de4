// The real app window, driven through WebDriver: it starts, shows the demo simulator, runs the
// keyring self-test against the real Secret Service, switches language, and takes screenshots;
// and how the window is drawn: without GPU compositing as shipped, with it under WebDriver.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { find, launch, logText, screenshot, shootBoth, until } from "./harness.mjs";

describe("demo mode", () => {
  let driver;
  let dataDir;
  let close;
  // A stand-in for the desktop's opener (xdg-open): it records what the app asked to open.
  const fakeBin = mkdtempSync(join(tmpdir(), "retract-opener-"));
  const opened = join(fakeBin, "opened.txt");

  before(async () => {
    writeFileSync(join(fakeBin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$@" >> "${opened}"\n`);
    chmodSync(join(fakeBin, "xdg-open"), 0o755);
    ({ driver, dataDir, close } = await launch(["--demo"], { PATH: `${fakeBin}:${process.env.PATH}` }));
  });

  after(async () => {
    await close?.();
  });

  it("opens the demo account in Chinese and labels it", async () => {
    const root = await find(driver, "app-root");
    assert.equal(await root.getAttribute("data-locale"), "zh-CN");
    const badge = await find(driver, "demo-badge");
    assert.equal(await badge.getText(), "演示账号");
    // The demo fills its list by itself on first open (its quota is simulated).
    const count = await find(driver, "article-count");
    await driver.wait(async () => Number(await count.getAttribute("data-total")) > 300, 20000, "the demo list stayed empty");
    await (await find(driver, "system-check")).click();
    const endpoint = await find(driver, "demo-endpoint");
    const base = await endpoint.getText();
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    // The demo's simulator serves the WeChat paths only, and only to its own address.
    assert.equal((await fetch(`${base}/_sim/requests`)).status, 404, "no control endpoints in the app");
    const status = await new Promise((resolve, reject) => {
      const url = new URL(`${base}/cgi-bin/get_api_domain_ip`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { Host: "rebound.example:80" } }, (res) => resolve(res.statusCode));
      req.on("error", reject);
      req.end();
    });
    assert.equal(status, 421, "a rebound Host is refused");
    const dir = await find(driver, "data-dir");
    assert.ok((await dir.getText()).includes(dataDir), "RETRACT_DATA_DIR is honoured");
  });

  it("shows where the log is and opens its folder through the system opener", async () => {
    const logDir = await (await find(driver, "log-dir")).getText();
    assert.equal(logDir, join(dataDir, "logs"));
    await (await find(driver, "open-log-folder")).click();
    await driver.wait(async () => existsSync(opened) && readFileSync(opened, "utf8").includes(logDir), 10000, "the log folder was not handed to the opener");
    assert.deepEqual(readFileSync(opened, "utf8").trim().split("\n"), [logDir], "exactly the log folder, nothing else");
  });

  it("runs the keyring self-test against the real Secret Service", async () => {
    const service = await (await find(driver, "keyring-service")).getText();
    assert.match(service, /app\.retract\.desktop\.dev/);
    await (await find(driver, "keyring-test-button")).click();
    const result = await find(driver, "keyring-result");
    await driver.wait(async () => (await result.getAttribute("data-ok")) === "true", 20000, "self-test did not pass");
    const store = await (await find(driver, "keyring-store")).getText();
    assert.match(store, /Secret Service/);
    // The canary entry was deleted again: the self-test leaves nothing behind in the keyring.
    const left = execFileSync("secret-tool", ["search", "--all", "service", "app.retract.desktop.dev"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    assert.doesNotMatch(left, /retract-self-test/);
    await screenshot(driver, "system-check-zh");
  });

  it("stays on the app's own page: a navigation away and a new window are refused", async () => {
    const before = await driver.getCurrentUrl();
    const handles = (await driver.getAllWindowHandles()).length;
    // What a script in the page could try: a link that opens a window (clicked, so WebKit's
    // own popup blocker does not stop it first), then leaving for another site.
    await driver.executeScript(`
      const a = document.createElement("a");
      a.href = "https://example.invalid/phish";
      a.target = "_blank";
      a.textContent = "open";
      a.dataset.testid = "stray-link";
      a.style = "position:fixed;top:0;left:0;z-index:9999;background:#fff";
      document.body.append(a);`);
    await (await find(driver, "stray-link")).click();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await driver.getAllWindowHandles()).length, handles, "no window was opened");
    await driver.executeScript("document.querySelector('[data-testid=stray-link]').remove(); location.href = 'https://example.invalid/login';");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await driver.getCurrentUrl(), before, "the page did not leave the app");
    await find(driver, "app-root");
    // The navigation is refused in Rust (logged). The link's window never opened (counted
    // above); whether WebKit asked Rust about it, or its own popup rules stopped it first,
    // the handle count is the proof.
    assert.match(logText(dataDir), /navigation away from the app refused scheme="https" host=Some\("example.invalid"\)/);
  });

  it("switches to English and back", async () => {
    await (await find(driver, "lang-switch")).click();
    const badge = await find(driver, "demo-badge");
    await driver.wait(until.elementTextIs(badge, "Demo account"), 5000);
    assert.equal(await (await find(driver, "app-root")).getAttribute("data-locale"), "en");
    await screenshot(driver, "system-check-en");
    await (await find(driver, "lang-switch")).click();
    await driver.wait(until.elementTextIs(badge, "演示账号"), 5000);
  });
});

describe("an environment that routes requests", () => {
  let driver;
  let close;

  before(async () => {
    ({ driver, close } = await launch(["--demo"], {
      HTTPS_PROXY: "http://ops:hunter2@proxy.corp.invalid:3128",
      SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
      NO_PROXY: "127.0.0.1,localhost",
    }));
  });

  after(async () => close?.());

  it("names the variables and where they send requests, never a proxy's password", async () => {
    await (await find(driver, "system-check")).click();
    const card = await find(driver, "env-routing");
    const text = await card.getText();
    assert.match(text, /HTTPS_PROXY/);
    assert.match(text, /proxy\.corp\.invalid:3128/);
    assert.match(text, /SSL_CERT_FILE/);
    assert.doesNotMatch(text, /hunter2|ops:/);
    await shootBoth(driver, "system-check-env-routing");
  });
});

describe("pointed at another API", () => {
  let driver;
  let close;

  before(async () => {
    ({ driver, close } = await launch([], { RETRACT_API_BASE: "http://127.0.0.1:9" }));
  });

  after(async () => {
    await close?.();
  });

  it("shows the override and no demo badge", async () => {
    await find(driver, "wizard");
    await (await find(driver, "system-check")).click();
    const card = await find(driver, "api-card");
    assert.match(await card.getText(), /RETRACT_API_BASE.*http:\/\/127\.0\.0\.1:9/s);
    assert.equal((await driver.findElements({ css: '[data-testid="demo-badge"]' })).length, 0);
  });
});

describe("dark mode", () => {
  let driver;
  let close;

  before(async () => {
    ({ driver, close } = await launch(["--demo"], { GTK_THEME: "Adwaita:dark" }));
  });

  after(async () => {
    await close?.();
  });

  it("follows the system's dark theme", async () => {
    await (await find(driver, "sync-button")).click();
    await find(driver, "sync-result", 30000);
    const dark = await driver.executeScript("return matchMedia('(prefers-color-scheme: dark)').matches");
    assert.equal(dark, true, "the webview did not pick up the dark theme");
    const background = await driver.executeScript("return getComputedStyle(document.documentElement).backgroundColor");
    assert.equal(background, "rgb(21, 24, 28)");
    // A whole message selected: the louder choice, as it looks in the dark.
    await (await find(driver, "select-message")).click();
    await screenshot(driver, "browser-dark-whole-message-zh");
    await (await find(driver, "delete-button")).click();
    await find(driver, "confirm-step1");
    const whole = await driver.findElements({ css: '[data-testid="confirm-target"][data-whole="true"]' });
    assert.equal(whole.length, 1);
    await screenshot(driver, "confirm-whole-message-dark-zh");
  });
});

/** The whole X screen as the user sees it (not a WebDriver snapshot): its PNG's checksum. */
function screenSum(name) {
  const path = join(process.env.RETRACT_SCREENSHOTS, `${name}.png`);
  execFileSync("import", ["-window", "root", path]);
  return execFileSync("md5sum", [path], { encoding: "utf8" }).split(" ")[0];
}

describe("how the window is drawn", () => {
  const DRAWN_IN_SOFTWARE = "drawing the window without GPU compositing";

  it("as shipped, without compositing: the real window repaints what changes", async () => {
    const app = await launch(["--demo"]);
    try {
      await find(app.driver, "demo-badge");
      assert.ok(logText(app.dataDir).includes(DRAWN_IN_SOFTWARE), "the shipped mode was not chosen");
      // The demo fills its list by itself; once it has, nothing on screen changes by itself.
      const count = await find(app.driver, "article-count");
      await app.driver.wait(async () => Number(await count.getAttribute("data-total")) > 300, 20000, "the demo list stayed empty");
      await new Promise((r) => setTimeout(r, 1500));
      const before = screenSum("drawn-in-software-zh");
      await (await find(app.driver, "lang-switch")).click();
      await app.driver.wait(until.elementTextIs(await find(app.driver, "demo-badge"), "Demo account"), 5000);
      // What X shows must follow: poll the screen itself, outside WebDriver and WebKit.
      let after = before;
      for (let i = 0; i < 20 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 250));
        after = screenSum("drawn-in-software-en");
      }
      assert.notEqual(after, before, "the window did not repaint after the language switch");
    } finally {
      await app.close();
    }
  });

  it("under WebDriver without the test pin, compositing stays on and a full-window screenshot answers", async () => {
    const app = await launch(["--demo"], { RETRACT_SOFTWARE_RENDERING: "" });
    try {
      await find(app.driver, "demo-badge");
      assert.ok(!logText(app.dataDir).includes(DRAWN_IN_SOFTWARE), "compositing was turned off under WebDriver");
      // The WebKitGTK call that never answers without compositing (hence the exception).
      const png = await Promise.race([app.driver.takeScreenshot(), new Promise((r) => setTimeout(() => r(null), 20000))]);
      assert.ok(png && png.length > 1000, "the full-window screenshot did not answer within 20 s");
    } finally {
      await app.close();
    }
  });
});
