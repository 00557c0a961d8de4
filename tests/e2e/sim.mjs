// The simulator as its own process, for tests of the real app: started on a free port,
// controlled and inspected over its /_sim endpoints.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { find, launch } from "./harness.mjs";

const BIN = process.env.RETRACT_SIM;
if (!BIN) throw new Error("RETRACT_SIM (the wechat-sim binary) is unset: run through `make e2e`");

export const DEMO_APPID = "wx5e7d1c0ffee0a1b2";
export const DEMO_SECRET = "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d";

export async function startSim(articles = 120) {
  const child = spawn(BIN, ["--port", "0", "--articles", String(articles)], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("wechat-sim did not start")), 10000);
    lines.on("line", (line) => {
      const m = line.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`wechat-sim exited with ${code}`)));
  });
  const post = async (path, body) => {
    const r = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  };
  return {
    base,
    async requests() {
      return (await fetch(`${base}/_sim/requests`)).json();
    },
    async count(path) {
      return (await this.requests()).filter((r) => r.path === path).length;
    },
    /** Every item's links, cover and title: `{appid, article_id, idx, short, long, cover, title}`. */
    async links() {
      return (await fetch(`${base}/_sim/links`)).json();
    },
    /** The drafts made through draft/add: `{appid, media_id, articles}`. */
    async drafts() {
      return (await fetch(`${base}/_sim/drafts`)).json();
    },
    configure: (settings) => post("/_sim/configure", { appid: DEMO_APPID, ...settings }),
    fault: (path, fault, times = 1) => post("/_sim/fault", { path, fault, times }),
    stop() {
      child.kill();
    },
  };
}

/** Adds the simulator's demo account through the wizard (verify, save) and syncs its list. */
export async function addAccount(driver) {
  for (const [id, text] of [["wizard-name", "测试服务号"], ["wizard-appid", DEMO_APPID], ["wizard-secret", DEMO_SECRET]]) {
    await (await find(driver, id)).sendKeys(text);
  }
  await (await find(driver, "wizard-verify")).click();
  await find(driver, "wizard-verify-result");
  await (await find(driver, "wizard-save")).click();
  await find(driver, "wizard-saved");
  await (await find(driver, "wizard-start")).click();
  await (await find(driver, "sync-button")).click();
  await find(driver, "sync-result", 30000);
}

/** A simulator (with `settings` for its demo account) and the real app pointed at it, the
 * account added and synced. `args` and `env` go to the app; with `--demo` the demo account is
 * there first, and the account is added beside it. `close()` ends both. */
export async function appWithAccount(articles, settings = null, { args = [], env = {} } = {}) {
  const sim = await startSim(articles);
  if (settings) await sim.configure(settings);
  const app = await launch(args, { RETRACT_API_BASE: sim.base, ...env });
  if (args.includes("--demo")) await (await find(app.driver, "add-account")).click();
  await addAccount(app.driver);
  return {
    sim,
    app,
    driver: app.driver,
    async close() {
      await app.close();
      sim.stop();
    },
  };
}
