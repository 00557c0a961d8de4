// Scrolling benchmark (not a test): the demo account's article list scrolled by 150 px every
// animation frame for 300 frames, in the shipped drawing mode (no GPU compositing) and in
// WebKitGTK's default (compositing), rounds interleaved. Prints each round and the medians of
// the frame intervals. Run through `make bench-scroll` (Xvfb, a keyring, the debug build).
import { launch, find } from "./harness.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const FRAMES = 300;

const SCROLL = `const done = arguments[arguments.length - 1];
const list = document.querySelector('[data-testid="article-list"]');
const times = [];
function step(t) {
  times.push(t);
  if (times.length > ${FRAMES}) {
    done(times.slice(1).map((x, i) => x - times[i]));
    return;
  }
  list.scrollTop = (list.scrollTop + 150) % (list.scrollHeight - list.clientHeight);
  requestAnimationFrame(step);
}
requestAnimationFrame(step);`;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

async function round(pin) {
  const app = await launch(["--demo"], { RETRACT_SOFTWARE_RENDERING: pin });
  try {
    const driver = app.driver;
    await driver.manage().setTimeouts({ script: 120000 });
    const count = await find(driver, "article-count");
    await driver.wait(async () => Number(await count.getAttribute("data-total")) > 300, 30000, "the demo list stayed empty");
    await new Promise((r) => setTimeout(r, 1500));
    const intervals = (await driver.executeAsyncScript(SCROLL)).sort((a, b) => a - b);
    return { median: quantile(intervals, 0.5), p95: quantile(intervals, 0.95), slow: intervals.filter((d) => d > 50).length };
  } finally {
    await app.close();
  }
}

const modes = [
  ["no compositing (shipped)", "1"],
  ["compositing (WebKitGTK default)", ""],
];
const results = new Map(modes.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, pin] of r % 2 ? [...modes].reverse() : modes) {
    const res = await round(pin);
    results.get(name).push(res);
    console.error(`round ${r + 1}: ${name}: median ${res.median.toFixed(1)} ms, p95 ${res.p95.toFixed(1)} ms, ${res.slow} of ${FRAMES} frames over 50 ms`);
  }
}
console.log("| drawing | frame interval, median | p95 | frames over 50 ms (of 300) |");
console.log("|---|---|---|---|");
for (const [name, rounds] of results) {
  const m = (key) => median(rounds.map((x) => x[key]));
  console.log(`| ${name} | ${m("median").toFixed(1)} ms | ${m("p95").toFixed(1)} ms | ${m("slow")} |`);
}
