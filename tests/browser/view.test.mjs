// The end-to-end test of `git lineage view` in a real browser, run by tests/view.rs:
//
//   node tests/browser/view.test.mjs CONFIG.json
//
// CONFIG names the page (a file on disk), the Chromium to drive, where to save a screenshot,
// and what to check: datasets to search for with the datasets the lineage puts upstream and
// downstream of each (the Rust test asks `git lineage impact` for them), columns the same
// way, a transformation whose code location the panel must show, and how many boxes the page must draw. Prints one
// line of JSON with what it measured; any failed check throws, and the exit code is 1.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function same(what, found, expected) {
  const a = [...found].sort(), b = [...expected].sort();
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}: the page shows ${JSON.stringify(a)}, the lineage says ${JSON.stringify(b)}`);
  }
}

// A fresh profile each time; the flags keep Chromium from reaching out to the network it
// would otherwise try (this page needs none, and the test machines have none).
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "git-lineage-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: config.chromium,
  headless: true,
  offline: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const result = { checks: 0 };
try {
  const page = context.pages()[0] || (await context.newPage());
  const outside = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) outside.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(pathToFileURL(config.page).href);
  await page.waitForSelector("body[data-ready]", { timeout: config.timeout_ms || 30000 });
  result.load_ms = Date.now() - started;
  result.render_ms = Number(await page.getAttribute("body", "data-render-ms"));
  async function shoot(file) {
    if (!file) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file });
  }
  await shoot(config.overview_screenshot);

  const count = (selector) => page.locator(selector).count();
  if (config.datasets_drawn != null) same("datasets drawn", [await count(".node.dataset")], [config.datasets_drawn]);
  if (config.groups_drawn != null) same("schema boxes drawn", [await count(".node.group")], [config.groups_drawn]);

  // Data flows left to right: with no schema collapsed (boxes of schemas can feed each
  // other both ways), every edge ends in a layer after the one it starts from, but for the
  // edges that close a cycle (a statement that reads and writes one table).
  async function leftToRight() {
    if (await count(".node.group")) return;
    const backwards = await page.evaluate(() => {
      const edges = [...document.querySelectorAll(".edge")];
      const next = new Map();
      for (const el of edges) {
        if (!next.has(el.dataset.from)) next.set(el.dataset.from, []);
        next.get(el.dataset.from).push(el.dataset.to);
      }
      const reaches = (from, to) => {
        const seen = new Set([from]);
        const stack = [from];
        while (stack.length) {
          const v = stack.pop();
          if (v === to) return true;
          for (const w of next.get(v) || []) if (!seen.has(w)) { seen.add(w); stack.push(w); }
        }
        return false;
      };
      return edges.filter((el) => {
        const d = el.getAttribute("d").match(/[-\d.e]+/g).map(Number);
        return d[d.length - 2] < d[0] && !reaches(el.dataset.to, el.dataset.from);
      }).map((el) => `${el.dataset.from} -> ${el.dataset.to}`);
    });
    same("edges drawn right to left outside cycles", backwards, []);
    result.checks++;
  }
  await leftToRight();
  if (config.expand_all) {
    await page.click("#expand-all");
    result.expanded_render_ms = Number(await page.getAttribute("body", "data-render-ms"));
    same("datasets drawn once expanded", [await count(".node.dataset")], [config.expand_all.datasets_drawn]);
    await shoot(config.expand_all.screenshot);
    await leftToRight();
    await page.click("#collapse-all");
  }

  for (const check of config.datasets) {
    const id = "d:" + check.name;
    await page.fill("#search", "");
    await page.type("#search", check.name);
    const match = page.locator(`#matches li[data-id="${id}"]:not([data-column])`);
    // The keyboard's way: the exact name is the first match, and Enter takes it.
    if (check.enter) await page.press("#search", "Enter");
    else await match.first().click();
    same(`selected after choosing ${check.name}`, await page.$$eval(".node.selected", (els) => els.map((e) => e.dataset.id)), [id]);
    // A dataset of a collapsed schema is drawn as its schema's box.
    const drawn = new Set(await page.$$eval(".node", (els) => els.map((e) => e.dataset.id)));
    const boxes = (names) => [...new Set(names.map((n) => drawn.has("d:" + n) ? "d:" + n : "g:" + n.slice(0, n.lastIndexOf("."))))];
    const shown = async (cls) => page.$$eval(`.node.dataset.${cls}, .node.group.${cls}`, (els) => els.map((e) => e.dataset.id));
    same(`upstream of ${check.name}`, await shown("upstream"), boxes(check.upstream));
    same(`downstream of ${check.name}`, await shown("downstream"), boxes(check.downstream));
    // Clicking the node itself keeps it selected and shows it in the panel.
    await page.locator(`.node[data-id="${id}"]`).click();
    same(`selected after clicking ${check.name}`, await page.$$eval(".node.selected", (els) => els.map((e) => e.dataset.id)), [id]);
    same(`panel title of ${check.name}`, [(await page.textContent("#panel h2")).trim()], [check.name + (check.status ? check.status : "")]);
    // The picture is of the first dataset selected: its lineage highlighted.
    if (check === config.datasets[0]) await shoot(config.screenshot);
    result.checks++;
  }
  // A column found by the search selects its dataset and shows the column's lineage.
  for (const column of config.columns || []) {
    await page.fill("#search", "");
    await page.type("#search", column.name);
    await page.locator(`#matches li[data-column="${column.name}"]`).first().click();
    const dataset = column.name.slice(0, column.name.lastIndexOf("."));
    same(`selected after choosing ${column.name}`, await page.$$eval(".node.selected", (els) => els.map((e) => e.dataset.id)), ["d:" + dataset]);
    const listed = async (cls) => page.$$eval(`#panel .${cls} li`, (els) => els.map((e) => e.dataset.col));
    same(`columns upstream of ${column.name}`, await listed("column-up"), column.upstream);
    same(`columns downstream of ${column.name}`, await listed("column-down"), column.downstream);
    // The graph shows the datasets the column's lineage passes through.
    const datasetsOf = (names) => [...new Set(names.map((n) => n.slice(0, n.lastIndexOf("."))))];
    const drawn = new Set(await page.$$eval(".node", (els) => els.map((e) => e.dataset.id)));
    const boxes = (names) => [...new Set(names.filter((n) => drawn.has("d:" + n)).map((n) => "d:" + n))];
    const shown = async (cls) => page.$$eval(`.node.dataset.${cls}`, (els) => els.map((e) => e.dataset.id));
    same(`datasets upstream of ${column.name}`, await shown("upstream"), boxes(datasetsOf(column.upstream)));
    same(`datasets downstream of ${column.name}`, await shown("downstream"), boxes(datasetsOf(column.downstream)));
    await shoot(column.screenshot);
    result.checks++;
  }
  if (config.transformation) {
    const t = config.transformation;
    await page.locator(`.node[data-id="t:${t.id}"]`).click();
    same(`code location of ${t.id}`, [(await page.textContent("#panel .location")).trim()], [t.location]);
    if (t.runs != null) same(`runs listed for ${t.id}`, [Math.max(0, (await count("#panel table.runs tr")) - 1)], [t.runs]);
    const prediction = (await page.textContent("#panel .prediction")).trim();
    if (t.prediction === "none" && !prediction.startsWith("no prediction")) throw new Error(`prediction of ${t.id}: ${prediction}`);
    if (t.prediction === "some" && prediction.startsWith("no prediction")) throw new Error(`prediction of ${t.id}: ${prediction}`);
    result.checks++;
  }
  if (config.statuses) {
    for (const [id, status] of Object.entries(config.statuses)) {
      const classes = (await page.getAttribute(`.node[data-id="${id}"]`, "class")).split(/\s+/);
      if (!classes.includes(status)) throw new Error(`${id} is drawn as ${classes.join(" ")}, not ${status}`);
      result.checks++;
    }
  }
  if (errors.length) throw new Error("the page's script failed: " + errors.join("; "));
  if (outside.length) throw new Error("the page asked the network for: " + outside.join(", "));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
