// The admin UI and the setup portal in headless Chromium (issue 16's browser flow):
// an operator logs in, creates an organization and a setup link; the IT admin opens
// it, picks Okta and copies the SCIM URL and token from the page; the Okta trace of
// ../shared/conformance is replayed with them; the portal shows "connected" and the
// counts without a reload; the operator finds a user and its events, revokes the
// token, and the next SCIM request is refused. axe-core finds no serious or critical
// violation on any page (the users, groups, webhooks, API keys and audit log pages
// included); screenshots of each main screen go to $SCIMGATE_SCREENSHOTS
// (default: target/screenshots) and, with SCIMGATE_UPDATE_DOCS=1, to docs/screenshots.
//
// Run: node --test scripts/e2e/admin-ui/admin_ui.test.mjs (after `cargo build --release`;
// SCIMGATE_BIN overrides the binary, CHROMIUM the browser, default /usr/bin/chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");
const SHARED = resolve(REPO, "../shared");
const TARGET = process.env.CARGO_TARGET_DIR || join(REPO, "target");
const BIN = process.env.SCIMGATE_BIN || join(TARGET, "release", "scimgate");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SCIMGATE_SCREENSHOTS || join(REPO, "target", "screenshots");
const DOC_SHOTS = join(REPO, "docs", "screenshots");
const EMAIL = "ops@vendor.test";
const PASSWORD = "correct horse battery staple";
// random, as scimgate refuses a guessable bootstrap key
const API_KEY = `sk_${randomBytes(24).toString("hex")}`;

let server, base, browser, ops, itAdmin, link, scimUrl, scimToken, dirId, receiver, hookUrl;
const axeChecked = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

function scimgate(args, env) {
  const r = spawnSync(BIN, args, { env: { ...process.env, ...env }, encoding: "utf8" });
  assert.equal(r.status, 0, `scimgate ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.SCIMGATE_UPDATE_DOCS === "1") {
    mkdirSync(DOC_SHOTS, { recursive: true });
    copyFileSync(file, join(DOC_SHOTS, `${name}.png`));
  }
}

// axe-core on the current page: no serious or critical violation
async function axe(page, name) {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeChecked.push(name);
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe on ${name}`,
  );
}

before(async () => {
  assert.ok(existsSync(BIN), `no scimgate binary at ${BIN} (cargo build --release -p scimgate-api)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const data = mkdtempSync(join(tmpdir(), "scimgate-admin-ui-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    SCIMGATE_DATA_DIR: data,
    SCIMGATE_LISTEN: `127.0.0.1:${port}`,
    SCIMGATE_BOOTSTRAP_API_KEY: API_KEY,
    // the webhook receiver below listens on this machine over http
    SCIMGATE_WEBHOOK_ALLOW_HTTP: "true",
    SCIMGATE_WEBHOOK_ALLOW_PRIVATE: "true",
    RUST_LOG: "warn",
  };
  // a webhook receiver that acknowledges every delivery
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${receiver.address().port}/webhooks`;
  scimgate(["admins", "create", "--email", EMAIL], { ...env, SCIMGATE_ADMIN_PASSWORD: PASSWORD });
  server = spawn(BIN, ["serve"], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    assert.ok(i < 300, "scimgate did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  const profile = mkdtempSync(join(tmpdir(), "scimgate-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
  await browser.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  ops = await browser.newPage();
  itAdmin = await browser.newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
  if (receiver) receiver.close();
  console.log(`axe-core checked ${axeChecked.length} pages: ${axeChecked.join(", ")}`);
});

test("an operator logs in and creates an organization", async () => {
  await ops.goto(`${base}/admin`);
  assert.match(ops.url(), /\/admin\/login$/, "a page without a session leads to the login form");
  await axe(ops, "login");
  await shot(ops, "01-login");
  await ops.getByLabel("Email").fill(EMAIL);
  await ops.getByLabel("Password").fill(PASSWORD);
  await ops.getByRole("button", { name: "Log in" }).click();
  await ops.waitForURL(`${base}/admin`);
  await ops.getByRole("heading", { name: "Organizations" }).waitFor();
  await axe(ops, "organizations (empty)");
  await ops.getByLabel("Name", { exact: true }).fill("Acme Corporation");
  await ops.getByLabel("Domains").fill("acme.test");
  await ops.getByRole("button", { name: "Create organization" }).click();
  await ops.getByRole("heading", { name: "Acme Corporation" }).waitFor();
  await axe(ops, "organization");
});

test("the operator generates a setup link", async () => {
  await ops.getByRole("button", { name: "Generate a setup link" }).click();
  link = await ops.locator("#new-link").inputValue();
  assert.match(link, /\/portal\/start\?token=/);
  await axe(ops, "organization with a new setup link");
  await shot(ops, "02-organization-setup-link");
});

test("the IT admin opens the link, picks Okta and copies the URL and token", async () => {
  await itAdmin.goto(link);
  await axe(itAdmin, "portal start");
  await itAdmin.getByRole("button", { name: "Start setup" }).click();
  await itAdmin.waitForURL(`${base}/portal`);
  await axe(itAdmin, "portal: pick the IdP");
  await shot(itAdmin, "03-portal-pick");
  await itAdmin.getByLabel("Okta", { exact: true }).check();
  await itAdmin.getByRole("button", { name: "Continue" }).click();
  await itAdmin.getByRole("heading", { name: "Set up Okta" }).waitFor();
  await axe(itAdmin, "portal: Okta steps");
  const copy = async (id) => {
    await itAdmin.locator(`button[data-copy="${id}"]`).click();
    return (await itAdmin.evaluate(() => navigator.clipboard.readText())).trim();
  };
  scimUrl = await copy("scim-url");
  scimToken = await copy("scim-token");
  assert.equal(scimUrl, await itAdmin.locator("#scim-url").inputValue());
  assert.equal(scimToken, await itAdmin.locator("#scim-token").inputValue());
  assert.match(scimUrl, /\/scim\/v2\/directory_/);
  assert.match(scimToken, /^sgd_/);
  dirId = scimUrl.split("/").pop();
  assert.match(await itAdmin.locator("#connection-state").textContent(), /Waiting for the first request/);
  await shot(itAdmin, "04-portal-okta-steps");
});

test("Okta's lifecycle trace replayed with them turns the portal to connected without a reload", async () => {
  let navigations = 0;
  itAdmin.on("framenavigated", (f) => {
    if (f === itAdmin.mainFrame()) navigations++;
  });
  const r = spawnSync(
    "python3",
    [join(SHARED, "conformance", "replay.py"), "--base", scimUrl, "--token", scimToken,
      join(SHARED, "conformance", "traces", "okta_lifecycle.json")],
    { encoding: "utf8", timeout: 120000 },
  );
  assert.equal(r.status, 0, `replay.py: ${r.stdout}\n${r.stderr}`);
  await itAdmin.waitForFunction(
    () => /Connected/.test(document.querySelector("#connection-state")?.textContent || ""),
    null,
    { timeout: 15000 },
  );
  const users = Number(await itAdmin.locator("#user-count").textContent());
  const groups = Number(await itAdmin.locator("#group-count").textContent());
  assert.ok(users >= 1, `users received: ${users}`);
  assert.ok(groups >= 1, `groups received: ${groups}`);
  assert.equal(navigations, 0, "the status changed without a reload");
  await axe(itAdmin, "portal: connected");
  await shot(itAdmin, "05-portal-connected");
});

test("the IT admin finishes", async () => {
  await itAdmin.getByRole("button", { name: "Finish" }).click();
  await itAdmin.getByRole("heading", { name: "All set" }).waitFor();
  await axe(itAdmin, "portal: done");
  await itAdmin.goto(`${base}/portal`);
  assert.match(await itAdmin.content(), /No setup session/, "the setup session ended");
});

test("the operator finds a user and its events", async () => {
  await ops.goto(`${base}/admin/directories/${dirId}`);
  await axe(ops, "directory");
  await shot(ops, "06-directory");
  await ops.getByRole("link", { name: /users/ }).first().click();
  await ops.getByRole("heading", { name: "Users" }).waitFor();
  await axe(ops, "users");
  await ops.locator("table a").first().click();
  await ops.getByRole("heading", { name: "Events" }).waitFor();
  const events = await ops.locator("table").last().textContent();
  assert.match(events, /dsync\.user\.created/);
  await axe(ops, "user");
  await shot(ops, "07-user");
  await ops.goto(`${base}/admin/events?directory=${dirId}`);
  await ops.locator("code", { hasText: "dsync.user.created" }).first().waitFor();
  await axe(ops, "events");
  await shot(ops, "08-events");
});

test("the operator searches users by state and browses the groups and a group's members", async () => {
  await ops.goto(`${base}/admin/directories/${dirId}/users`);
  await ops.getByLabel("State").selectOption("active");
  await ops.getByRole("button", { name: "Search" }).click();
  await ops.waitForURL(/state=active/);
  assert.ok((await ops.locator("table a").count()) >= 1, "active users found");
  await axe(ops, "users searched by state");
  await ops.getByLabel("Name", { exact: true }).fill("no such person anywhere");
  await ops.getByRole("button", { name: "Search" }).click();
  await ops.getByText("No user matches").waitFor();
  await axe(ops, "users: no match");
  await ops.goto(`${base}/admin/directories/${dirId}`);
  await ops.getByRole("link", { name: /groups/ }).first().click();
  await ops.getByRole("heading", { name: "Groups" }).waitFor();
  await axe(ops, "groups");
  await shot(ops, "11-groups");
  await ops.locator("table a").first().click();
  await ops.getByRole("heading", { name: "Members" }).waitFor();
  await axe(ops, "group");
});

test("the operator adds a webhook endpoint, copies its secret once and sees a delivery", async () => {
  await ops.goto(`${base}/admin`);
  await ops.getByRole("link", { name: "Webhooks" }).click();
  await ops.getByRole("heading", { name: "Webhook endpoints" }).waitFor();
  await ops.getByText("No webhook endpoint yet").waitFor();
  await axe(ops, "webhooks (empty)");
  await ops.getByLabel("Endpoint URL").fill(hookUrl);
  await ops.getByLabel("Description").fill("Acme's app");
  await ops.getByRole("button", { name: "Add endpoint" }).click();
  await ops.getByRole("heading", { name: "Webhook endpoint", exact: true }).waitFor();
  await ops.locator('button[data-copy="new-secret"]').click();
  const secret = (await ops.evaluate(() => navigator.clipboard.readText())).trim();
  assert.match(secret, /^whsec_/);
  assert.equal(secret, await ops.locator("#new-secret").inputValue());
  await axe(ops, "webhook endpoint with its new secret");
  // an event after the endpoint was made: delivered to the receiver
  const r = await fetch(`${scimUrl}/Users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${scimToken}`, "Content-Type": "application/scim+json" },
    body: JSON.stringify({
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "webhook.watcher@acme.test",
      name: { givenName: "Webhook", familyName: "Watcher" },
      emails: [{ primary: true, value: "webhook.watcher@acme.test", type: "work" }],
      active: true,
    }),
  });
  assert.equal(r.status, 201);
  await ops.goto(`${base}/admin/webhooks`);
  await ops.getByRole("link", { name: hookUrl }).click();
  await ops.getByRole("heading", { name: "Deliveries" }).waitFor();
  const page = ops.url();
  for (let i = 0; ; i++) {
    await ops.goto(page);
    if ((await ops.locator("table td", { hasText: /^delivered$/ }).count()) > 0) break;
    assert.ok(i < 50, `the delivery appears: ${await ops.locator("main").textContent()}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.doesNotMatch(await ops.content(), new RegExp(secret.replace(/[+/=]/g, "\\$&")), "the secret is shown once");
  await ops.locator("#endpoint-health", { hasText: "Healthy" }).waitFor();
  await axe(ops, "webhook endpoint with deliveries");
  await shot(ops, "12-webhook-endpoint");
  await ops.getByRole("button", { name: "Disable" }).click();
  await ops.locator("#endpoint-health", { hasText: "Disabled" }).waitFor();
  await ops.getByRole("button", { name: "Enable" }).click();
  await ops.locator("#endpoint-health", { hasText: "Healthy" }).waitFor();
  await ops.goto(`${base}/admin/webhooks`);
  await axe(ops, "webhooks");
});

test("the operator creates an API key, shown once, and revokes it", async () => {
  await ops.getByRole("link", { name: "API keys" }).click();
  await ops.getByRole("heading", { name: "API keys" }).waitFor();
  await axe(ops, "API keys");
  await ops.getByLabel("Name", { exact: true }).fill("events consumer");
  await ops.getByLabel("events:read").check();
  await ops.getByRole("button", { name: "Create key" }).click();
  const key = await ops.locator("#new-key").inputValue();
  assert.match(key, /^sk_/);
  assert.equal((await fetch(`${base}/events?limit=1`, { headers: { Authorization: `Bearer ${key}` } })).status, 200);
  await axe(ops, "API keys with a new key");
  await shot(ops, "13-api-keys");
  await ops.getByRole("button", { name: "Revoke events consumer" }).click();
  await ops.getByRole("button", { name: "Revoke events consumer" }).waitFor({ state: "detached" });
  assert.equal((await fetch(`${base}/events?limit=1`, { headers: { Authorization: `Bearer ${key}` } })).status, 401);
});

test("the audit log shows the operator's actions, filtered", async () => {
  await ops.getByRole("link", { name: "Audit log" }).click();
  await ops.getByRole("heading", { name: "Audit log" }).waitFor();
  const text = await ops.locator("table").textContent();
  assert.match(text, /api_key\.revoked/);
  assert.match(text, /webhook_endpoint\.created/);
  assert.match(text, new RegExp(`admin ${EMAIL.replace(".", "\\.")}`));
  await axe(ops, "audit log");
  await shot(ops, "14-audit-log");
  await ops.getByLabel("Action").fill("api_key.created");
  await ops.getByRole("button", { name: "Filter" }).click();
  await ops.waitForURL(/action=api_key\.created/);
  assert.doesNotMatch(await ops.locator("table").textContent(), /api_key\.revoked/);
  await axe(ops, "audit log filtered");
});

test("the operator revokes the token and the next SCIM request is refused", async () => {
  await ops.goto(`${base}/admin/directories/${dirId}`);
  assert.equal((await fetch(`${scimUrl}/Users`, { headers: { Authorization: `Bearer ${scimToken}` } })).status, 200);
  await ops.getByRole("button", { name: "Revoke" }).first().click();
  await ops.getByText("No active token").waitFor();
  await new Promise((r) => setTimeout(r, 1100)); // the verification cache's 0.9 s
  const res = await fetch(`${scimUrl}/Users`, { headers: { Authorization: `Bearer ${scimToken}` } });
  assert.equal(res.status, 401);
});

test("the pages work at a phone's width", async () => {
  await ops.setViewportSize({ width: 390, height: 844 });
  await ops.goto(`${base}/admin`);
  await axe(ops, "organizations at phone width");
  await shot(ops, "09-organizations-phone");
  const overflow = await ops.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling of the page (${overflow}px)`);
  // a new link for the portal at phone width (the first session ended)
  await ops.goto(`${base}/admin`);
  await ops.getByRole("link", { name: "Acme Corporation" }).click();
  await ops.getByRole("button", { name: "Generate a setup link" }).click();
  const again = await ops.locator("#new-link").inputValue();
  await itAdmin.setViewportSize({ width: 390, height: 844 });
  await itAdmin.goto(again);
  await itAdmin.getByRole("button", { name: "Start setup" }).click();
  await itAdmin.waitForURL(`${base}/portal`);
  await axe(itAdmin, "portal at phone width");
  await shot(itAdmin, "10-portal-phone");
});
