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
    await makeUiInventory(server.url, writeKey);
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
