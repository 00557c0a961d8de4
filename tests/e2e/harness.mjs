// Starts the real app through its own tauri-driver (so each launch gets its own environment
// and data folder) and offers a few helpers. One app session per driver.
import { Builder, By, until } from "selenium-webdriver";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { By, until };

const APP = process.env.RETRACT_APP;
const SHOTS = process.env.RETRACT_SCREENSHOTS;
if (!APP || !SHOTS) throw new Error("run through tests/e2e/run.sh: RETRACT_APP and RETRACT_SCREENSHOTS are unset");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/**
 * Launches the app with `args`, a data folder (fresh unless given) and `env` added to its
 * environment.
 * The window is drawn as shipped (without GPU compositing): under WebDriver Retract would keep
 * compositing on, so the debug hook RETRACT_SOFTWARE_RENDERING pins the shipped mode; pass it
 * as "" in `env` to run the WebDriver default instead.
 * Returns the WebDriver session, the data folder and a `close()` that ends both.
 */
export async function launch(args = [], env = {}, { dataDir = mkdtempSync(join(tmpdir(), "retract-e2e-")) } = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  // Its own process group, and a log file rather than a pipe: on close the whole group (driver,
  // WebKitWebDriver, the app) is killed, and no leftover process can hold a pipe of ours open.
  const logPath = join(dataDir, "tauri-driver.log");
  const log = openSync(logPath, "w");
  const driverProcess = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    // Its own WebKit storage too (localStorage keeps the chosen language): no launch inherits
    // another's state, whatever ran on this machine before.
    env: { ...process.env, RETRACT_DATA_DIR: dataDir, XDG_DATA_HOME: join(dataDir, "xdg-data"), XDG_CACHE_HOME: join(dataDir, "xdg-cache"), RETRACT_SOFTWARE_RENDERING: "1", ...env },
    stdio: ["ignore", log, log],
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-driverProcess.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  await waitForPort(port, 10000);
  let driver;
  try {
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}/`)
      .withCapabilities({ browserName: "wry", "tauri:options": { application: APP, args } })
      .build();
  } catch (e) {
    killGroup();
    throw new Error(`could not start the app: ${e.message}\n${readFileSync(logPath, "utf8")}`);
  }
  async function close() {
    // The last screen, as any test leaves it: no English sentence in a Chinese message.
    let english = null;
    try {
      await assertNoEnglishInChinese(driver, "the last screen");
    } catch (e) {
      if (String(e.message).startsWith("English inside")) english = e;
    }
    try {
      await driver.quit();
    } finally {
      killGroup();
    }
    if (english) throw english;
  }
  // The process group holds the driver, WebKitWebDriver, the app and its WebKit processes.
  return { driver, dataDir, close, group: driverProcess.pid };
}

/** The processes of a launch's group whose command name starts with `name`. */
export function groupProcesses(group, name) {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[2]) === group && comm.startsWith(name);
      } catch {
        return false;
      }
    });
}

export function byTestId(id) {
  return By.css(`[data-testid="${id}"]`);
}

/** Waits for an element; on a time-out, saves a screenshot named after it before failing. */
export async function find(driver, id, timeout = 15000) {
  let found;
  try {
    found = await driver.wait(until.elementLocated(byTestId(id)), timeout, `no element with data-testid="${id}"`);
  } catch (e) {
    const path = await screenshot(driver, `failure-${id}`).catch(() => "(no screenshot)");
    e.message += ` — screenshot: ${path}`;
    throw e;
  }
  // Every problem a test reaches is read in the UI's language: in Chinese, no English sentence.
  if (id === "error-banner") await assertNoEnglishInChinese(driver, `an error banner (${await found.getAttribute("data-kind")})`);
  return found;
}

// Without compositing (as Retract ships), WebKitGTK 2.50 answers a WebDriver screenshot only
// after the page paints again, and its full-window screenshot not at all. So a screenshot is
// the root element's (the whole window), with a 1-pixel dot in the corner toggled between
// invisible and almost invisible (alpha 1/100) for a second, so that there is a paint to wait for.
const POKE_PAINT = `
  const dot = document.createElement("div");
  dot.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
  document.body.append(dot);
  for (const [ms, alpha] of [[30, 0.01], [150, 0], [400, 0.01], [800, 0]]) setTimeout(() => { dot.style.background = "rgba(0,0,0," + alpha + ")"; }, ms);
  setTimeout(() => dot.remove(), 1000);`;

/** Saves a PNG of the window, after two animation frames so the last DOM change is painted. */
export async function screenshot(driver, name) {
  await driver.executeAsyncScript("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));");
  await driver.executeScript(POKE_PAINT);
  const png = await driver.findElement(By.css("html")).takeScreenshot();
  const path = join(SHOTS, `${name}.png`);
  writeFileSync(path, png, "base64");
  return path;
}

/** Switches the language for screenshots. A script click: an open dialog's backdrop rightly
 * covers the top bar, and the dialog itself should be captured in both languages. */
export async function setLocale(driver, wanted) {
  const root = await find(driver, "app-root");
  if ((await root.getAttribute("data-locale")) !== wanted) {
    await driver.executeScript("arguments[0].click()", await find(driver, "lang-switch"));
    await driver.wait(async () => (await root.getAttribute("data-locale")) === wanted, 5000, `locale never became ${wanted}`);
  }
}

/** Rendered text as the DOM has it (WebKit's WebDriver leaves out ellipsis-clipped text). */
export async function textOf(el) {
  return (await el.getAttribute("textContent")).trim();
}

/** Screenshots the current screen in both languages, ending in zh-CN; in zh-CN, every message
 * on screen is checked for English sentences (see `assertNoEnglishInChinese`). */
export async function shootBoth(driver, name) {
  await setLocale(driver, "en");
  await screenshot(driver, `${name}-en`);
  await setLocale(driver, "zh-CN");
  await screenshot(driver, `${name}-zh`);
  await assertNoEnglishInChinese(driver, name);
}

/** Three or more Latin words in a row: an English sentence (AppID, IP, Retract, access_token
 * or "MP console" alone are product words, and pass). */
export const LATIN_SENTENCE = /[A-Za-z][\w'’]*(?:[ ,:]+[A-Za-z][\w'’]*){2,}/;

/** The messages the window shows an operator — problems, results, headlines — hold no English
 * sentence while the UI is in Chinese. Technical details (folded, marked lang="en") are the
 * one place the core's English may appear. */
export async function assertNoEnglishInChinese(driver, where) {
  const locale = await driver.executeScript("return document.querySelector('[data-testid=app-root]')?.getAttribute('data-locale') ?? null");
  if (locale !== "zh-CN") return 0;
  const texts = await driver.executeScript(`
    return [...document.querySelectorAll('[data-testid="error-message"], [data-testid="deletion-headline"], [data-testid="deletion-next"], [data-testid="deletion-result"] .outcome, [data-testid="deletion-progress-item"] .state, [data-testid="error-banner"] strong')]
      .map((e) => e.textContent.trim());`);
  for (const text of texts) {
    if (LATIN_SENTENCE.test(text)) throw new Error(`English inside a Chinese message on ${where}: ${JSON.stringify(text)}`);
  }
  return texts.length;
}


/** Waits until the element's attribute has the expected value; returns the element. */
export async function attr(driver, id, name, expected, timeout = 20000) {
  const el = await find(driver, id, timeout);
  await driver.wait(async () => (await el.getAttribute(name)) === expected, timeout, `${id}[${name}] never became ${expected}`);
  return el;
}

const AXE_SOURCE = readFileSync(join(import.meta.dirname, "node_modules", "axe-core", "axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the screen as it is, in both languages; returns
 * the violations of serious or critical impact, each named with the screen and language.
 */
export async function accessibilityProblems(driver, screen) {
  const problems = [];
  for (const locale of ["zh-CN", "en"]) {
    await setLocale(driver, locale);
    if (!(await driver.executeScript("return typeof window.axe === 'object'"))) await driver.executeScript(AXE_SOURCE);
    const found = JSON.parse(
      await driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] })
          .then((r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })))))
          .catch((e) => done(JSON.stringify([{ id: "axe-failed", impact: "critical", help: String(e), nodes: [] }])));`),
    );
    for (const v of found) {
      if (v.impact === "serious" || v.impact === "critical") problems.push({ screen, locale, ...v });
    }
  }
  await setLocale(driver, "zh-CN");
  return problems;
}

/** Everything the app's log files in `dataDir` say so far. */
export function logText(dataDir) {
  const dir = join(dataDir, "logs");
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("");
}

/** The first element `locator` finds, once there is one (lists render after they load). */
export async function firstOf(driver, locator, what, timeout = 15000) {
  await driver.wait(async () => (await driver.findElements(locator)).length > 0, timeout, `no ${what}`);
  return driver.findElement(locator);
}

/** Deletes what is selected now, through both confirm steps; waits for the results and closes
 * them. `before` runs on the results, before they close. */
export async function deleteSelection(driver, phrase, before = async () => {}) {
  await (await find(driver, "delete-button")).click();
  await (await find(driver, "confirm-step1-continue")).click();
  await typeConfirmation(driver, phrase);
  await (await find(driver, "confirm-delete")).click();
  await attr(driver, "deletion-results", "data-state", "done", 30000);
  await before();
  await (await find(driver, "deletion-done")).click();
}

/** Step 2: types the plan's number and, when several accounts are configured (the dialog asks
 * then), the account's name as the dialog shows it. */
export async function typeConfirmation(driver, phrase) {
  await (await find(driver, "confirm-phrase-input")).sendKeys(String(phrase));
  const names = await driver.findElements(byTestId("confirm-account-input"));
  if (names.length > 0) {
    const name = await (await find(driver, "confirm-step2-account")).getAttribute("data-name");
    await names[0].sendKeys(name);
  }
}

/** Runs SQL on the app's database (python3's sqlite3 is on every machine here). While the app
 * runs too: WAL lets its readers and this writer coexist, and a busy database is waited for. */
export function sql(dataDir, statement) {
  execFileSync("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=10); c.execute(sys.argv[2]); c.commit()", join(dataDir, "retract.db"), statement]);
}
