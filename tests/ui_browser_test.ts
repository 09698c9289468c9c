/**
 * The web UI in a real browser: a real ppserver process with an inventory made through its
 * API, driven by headless Chromium (puppeteer-core). The test signs in, walks every page,
 * clicks through what a person would, and fails on any console error, page error, failed
 * request or unexpected HTTP error. Each page's screenshot goes to `test-output/ui/`.
 *
 * One browser launch for the whole file (a launch costs seconds on a 2-core machine).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type HTTPResponse, type Page } from "puppeteer-core";
import { startPpserver } from "./_servers/ppserver.ts";
import { makeUiInventory } from "./ui_inventory.ts";
import { issueKeyOver } from "./ui_browser_keys.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = fileURLToPath(new URL("../test-output/ui/", import.meta.url));
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** Everything that went wrong in the page, as it happened. */
class Watch {
  problems: string[] = [];
  /** HTTP error statuses the current step provokes on purpose (the browser logs them too). */
  expected = new Set<number>();
  constructor(page: Page) {
    page.on("console", (message) => {
      const text = message.text();
      const status = Number(text.match(/responded with a status of (\d{3})/)?.[1]);
      if (message.type() === "error" && !this.expected.has(status)) {
        this.problems.push(`console error: ${text}`);
      }
    });
    page.on("pageerror", (error) => this.problems.push(`page error: ${error}`));
    page.on("requestfailed", (request) => {
      this.problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });
    page.on("response", (response: HTTPResponse) => {
      if (response.status() >= 400 && !this.expected.has(response.status())) {
        this.problems.push(`HTTP ${response.status()} for ${response.url()}`);
      }
    });
  }
  check(where: string): void {
    assert.deepEqual(this.problems, [], `problems in the browser at ${where}`);
  }
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${OUTPUT}${name}.png`, fullPage: true });
}

async function go(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: "load" });
}

async function clickAndWait(page: Page, selector: string): Promise<void> {
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(selector)]);
}

Deno.test({
  name: "the web UI works in Chromium: sign-in, every page, key management, sign-out",
  // Chromium comes from .ci/provision (apt); without it this test cannot run.
  ignore: !hasChromium,
  async fn(t) {
    await Deno.mkdir(OUTPUT, { recursive: true });
    await using server = await startPpserver();
    const writeKey = await issueKeyOver(server.url, server.adminKey, "write");
    const inventory = await makeUiInventory(server.url, writeKey);
    const readKey = await issueKeyOver(server.url, server.adminKey, "read");

    const browser: Browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox"],
      headless: true,
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const watch = new Watch(page);
      page.on("dialog", (dialog) => dialog.accept());

      await t.step("a signed-out browser sees only the sign-in page", async () => {
        await go(page, `${server.url}/`);
        assert.equal(new URL(page.url()).pathname, "/ui/sign-in");
        for (const path of ["/ui", "/ui/keys"]) {
          await go(page, `${server.url}${path}`);
          assert.equal(new URL(page.url()).pathname, "/ui/sign-in", path);
        }
        assert.equal(await page.$("nav.main"), null);
        await shot(page, "01-sign-in");
        watch.check("sign-in");
      });

      await t.step("a wrong key is refused with a message", async () => {
        watch.expected.add(401);
        await page.type("#api_key", "0".repeat(64));
        await clickAndWait(page, "button[type=submit]");
        const alert = await page.$eval("[role=alert]", (e) => e.textContent ?? "");
        assert.match(alert, /not valid/);
        assert.equal((await page.cookies()).length, 0);
        await shot(page, "02-sign-in-refused");
        watch.expected.delete(401);
        watch.check("refused sign-in");
      });

      await t.step("sign-in with the admin key sets a safe session cookie", async () => {
        await page.type("#api_key", server.adminKey);
        await clickAndWait(page, "button[type=submit]");
        assert.equal(new URL(page.url()).pathname, "/ui/keys", "back to the page asked for");
        const cookies = await page.cookies();
        assert.equal(cookies.length, 1);
        const [cookie] = cookies;
        assert.equal(cookie.name, "pp_session");
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, "Strict");
        assert.equal(cookie.secure, false, "plain http: no Secure flag");
        assert.equal(cookie.path, "/ui");
        assert.ok(!cookie.value.includes(server.adminKey));
        assert.equal(await page.evaluate("document.cookie"), "", "scripts cannot read it");
        watch.check("sign-in");
      });

      await t.step("dashboard", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui"]');
        const text = await page.$eval("main", (e) => e.textContent ?? "");
        assert.match(text, /Fleet inventory/);
        assert.match(text, /Saved by dedup/);
        assert.ok(await page.$("figure.bars figcaption"));
        assert.ok(await page.$("figure.timechart svg path.line-1"), "the chart over time");
        await shot(page, "03-dashboard");
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
        await shot(page, "03-dashboard-dark");
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
        await page.setViewport({ width: 360, height: 740 });
        await shot(page, "03-dashboard-360px");
        const overflow = Number(
          await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          ),
        );
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360px`);
        await page.setViewport({ width: 1280, height: 800 });
        watch.check("dashboard");
      });

      await t.step("hosts, then a host's tree down to a paged directory", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui/hosts"]');
        const hosts = await page.$$eval(
          "tbody tr td:first-child",
          (cells) => cells.map((c) => c.textContent?.trim()),
        );
        assert.deepEqual(hosts, ["db-01", "web-01", "web-02"]);
        await shot(page, "04-hosts");
        await clickAndWait(page, 'a[href="/ui/hosts/web-01"]');
        for (const name of ["srv/", "www/", "img/"]) {
          const links = await page.$$("tbody td.path a");
          let clicked = false;
          for (const link of links) {
            if ((await link.evaluate((a) => a.textContent ?? "")).trim() === name) {
              await Promise.all([page.waitForNavigation({ waitUntil: "load" }), link.click()]);
              clicked = true;
              break;
            }
          }
          assert.ok(clicked, `a link to ${name}`);
        }
        const crumbs = await page.$$eval(
          ".crumbs li",
          (items) => items.map((li) => li.textContent?.trim()),
        );
        assert.deepEqual(crumbs, ["Hosts", "web-01", "srv", "www", "img"]);
        const firstPage = await page.$$eval("tbody tr", (rows) => rows.length);
        assert.equal(firstPage, 50);
        await shot(page, "05-tree");
        await clickAndWait(page, "a[rel=next]");
        const secondPage = await page.$$eval("tbody tr", (rows) => rows.length);
        assert.equal(firstPage + secondPage, inventory.photos.count);
        // Sorting by size, largest first, keeps the page's rows.
        const sizeHeader = "table.sortable thead th:nth-child(2) button.sort";
        await page.click(sizeHeader);
        await page.click(sizeHeader);
        const sizes = await page.$$eval(
          "tbody tr td:nth-child(2)",
          (cells) => cells.map((c) => Number(c.getAttribute("data-sort"))),
        );
        assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a));
        watch.check("tree");
      });

      await t.step("a file: history, every location, verified download", async () => {
        await go(page, `${server.url}/ui/hosts/web-01?path=/srv/www`);
        const links = await page.$$("tbody td.path a");
        for (const link of links) {
          if ((await link.evaluate((a) => a.textContent ?? "")).trim() === "index.html") {
            await Promise.all([page.waitForNavigation({ waitUntil: "load" }), link.click()]);
            break;
          }
        }
        assert.equal(new URL(page.url()).pathname, "/ui/hosts/web-01/file");
        const text = await page.$eval("main", (e) => e.textContent ?? "");
        assert.match(text, /History/);
        assert.equal(await page.$$eval("main table", (t) => t.length), 2, "history + locations");
        await shot(page, "06-file");
        const href = await page.$eval("a.button[download]", (a) => a.getAttribute("href") ?? "");
        const cookie = (await page.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
        const download = await fetch(`${server.url}${href}`, { headers: { cookie } });
        assert.equal(download.status, 200);
        assert.match(download.headers.get("content-disposition") ?? "", /filename="index.html"/);
        assert.equal(await download.text(), inventory.edited.after);
        watch.check("file");
      });

      await t.step("search updates while typing and links to the file", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui/search"]');
        await shot(page, "07-search-empty");
        await page.type("#q", "photo-1");
        await page.waitForFunction(
          'document.querySelectorAll("#results tbody tr").length === 10',
          { timeout: 5000 },
        );
        assert.match(new URL(page.url()).search, /q=photo-1/);
        await shot(page, "07-search");
        await clickAndWait(page, "#results tbody tr td.path a");
        assert.equal(new URL(page.url()).pathname, "/ui/hosts/web-01/file");
        await go(page, `${server.url}/ui/search?min_size=100K`);
        const big = await page.$$eval("#results tbody tr", (rows) => rows.length);
        assert.equal(big, 3, "the logo on each host is the only file of 100 KiB or more");
        watch.check("search");
      });

      await t.step("duplicates: reclaimable first, filter by host, open a group", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui/duplicates"]');
        const first = await page.$eval("tbody tr", (row) => row.textContent ?? "");
        assert.match(first, /391 KiB/, "the logo: 200,000 bytes x 2 reclaimable");
        await shot(page, "08-duplicates");
        await page.type("#dup-host", "web-01, web-02");
        await clickAndWait(page, "form.filters button[type=submit]");
        const groups = await page.$$eval(
          "tbody tr td:nth-child(3)",
          (cells) => cells.map((c) => c.textContent?.trim()),
        );
        assert.deepEqual(groups, ["2", "2"], "the logo and the config, two copies each");
        await shot(page, "08-duplicates-filtered");
        await go(page, `${server.url}/ui/duplicates`);
        await clickAndWait(page, "tbody tr td a");
        assert.equal(new URL(page.url()).pathname, `/ui/contents/${inventory.sharedLogo.digest}`);
        assert.equal(await page.$$eval("tbody tr", (r) => r.length), 3);
        await shot(page, "08-content");
        watch.check("duplicates");
      });

      await t.step("changes since a time and protection", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui/changes"]');
        const kinds = await page.$$eval(
          "tbody tr td:nth-child(2)",
          (cells) => new Set(cells.map((c) => c.textContent?.trim())).size,
        );
        assert.equal(kinds, 3, "added, modified and deleted");
        await shot(page, "10-changes");
        await clickAndWait(page, 'nav.main a[href="/ui/protection"]');
        const atRisk = await page.$$eval("#at-risk + p + .table-wrap tbody tr", (r) => r.length);
        assert.equal(atRisk, 3, "the three never-uploaded logs");
        await shot(page, "11-protection");
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
        await go(page, `${server.url}/ui/duplicates`);
        await shot(page, "08-duplicates-dark");
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
        watch.check("changes and protection");
      });

      await t.step(
        "every page at 360 px: no sideways scroll, one h1, every field labelled",
        async () => {
          const pages: [string, string][] = [
            ["dashboard", "/ui"],
            ["hosts", "/ui/hosts"],
            ["tree", "/ui/hosts/web-01?path=/srv/www/img"],
            ["file", "/ui/hosts/web-01/file?path=/srv/www/index.html"],
            ["search", "/ui/search?q=photo"],
            ["duplicates", "/ui/duplicates"],
            ["content", `/ui/contents/${inventory.sharedLogo.digest}`],
            ["changes", "/ui/changes"],
            ["protection", "/ui/protection"],
            ["api-keys", "/ui/keys"],
          ];
          await page.setViewport({ width: 360, height: 740 });
          try {
            for (const [name, path] of pages) {
              await go(page, `${server.url}${path}`);
              const report = await page.evaluate(`(() => {
              const unlabelled = [...document.querySelectorAll("input, select, textarea")]
                .filter((field) => field.type !== "hidden" && field.labels.length === 0)
                .map((field) => field.name);
              return {
                overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                h1: document.querySelectorAll("h1").length,
                unlabelled,
              };
            })()`);
              assert.deepEqual(report, { overflow: 0, h1: 1, unlabelled: [] }, name);
              await shot(page, `12-${name}-360px`);
            }
          } finally {
            await page.setViewport({ width: 1280, height: 800 });
          }
          watch.check("360 px");
        },
      );

      await t.step("the keyboard reaches the skip link first", async () => {
        await go(page, `${server.url}/ui`);
        await page.keyboard.press("Tab");
        const focused = await page.evaluate("document.activeElement?.textContent ?? ''");
        assert.equal(focused, "Skip to content");
      });

      await t.step("API keys: create one, shown once; revoke and delete it", async () => {
        await clickAndWait(page, 'nav.main a[href="/ui/keys"]');
        assert.equal(new URL(page.url()).pathname, "/ui/keys");
        await page.type("#key-name", "browser-made");
        await page.select("#key-scope", "read");
        await clickAndWait(page, 'form[action="/ui/keys"] button[type=submit]');
        const key = await page.$eval("#new-key", (e) => e.textContent ?? "");
        assert.match(key, /^[0-9a-f]{64}$/);
        await shot(page, "09-api-keys-created");
        await go(page, `${server.url}/ui/keys`);
        assert.equal(await page.$("#new-key"), null, "the key is shown only once");
        const row = await page.$$eval(
          "tbody tr",
          (rows) =>
            rows.map((r) => r.textContent ?? "").findIndex((t) => t.includes("browser-made")),
        );
        assert.ok(row >= 0);
        await clickAndWait(page, 'button[aria-label="Revoke browser-made"]');
        assert.match(await page.$eval("[role=status]", (e) => e.textContent ?? ""), /revoked/);
        await shot(page, "09-api-keys");
        await clickAndWait(page, 'button[aria-label="Delete browser-made"]');
        const names = await page.$$eval(
          "tbody tr td:first-child",
          (cells) => cells.map((c) => c.textContent ?? ""),
        );
        assert.ok(!names.some((n) => n.includes("browser-made")));
        watch.check("API keys");
      });

      await t.step("sorting a column by keyboard", async () => {
        await page.focus("table.sortable thead th button.sort");
        await page.keyboard.press("Enter");
        const sort = await page.$eval(
          "table.sortable thead th",
          (th) => th.getAttribute("aria-sort"),
        );
        assert.equal(sort, "ascending");
      });

      await t.step("sign-out ends the session", async () => {
        await clickAndWait(page, "form[action='/ui/sign-out'] button");
        assert.equal(new URL(page.url()).pathname, "/ui/sign-in");
        assert.equal((await page.cookies()).length, 0);
        await go(page, `${server.url}/ui`);
        assert.equal(new URL(page.url()).pathname, "/ui/sign-in");
        watch.check("sign-out");
      });

      await t.step("a read key signs in and sees no key management", async () => {
        await page.type("#api_key", readKey);
        await clickAndWait(page, "button[type=submit]");
        assert.equal(new URL(page.url()).pathname, "/ui");
        assert.equal(await page.$('nav.main a[href="/ui/keys"]'), null);
        watch.check("read key");
      });
    } finally {
      await browser.close();
    }
  },
});
