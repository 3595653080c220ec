// The WorkOS Node SDK (@workos-inc/node 8.13, pinned in package.json) verifies scimgate's webhook
// deliveries: `webhooks.constructEvent` on each recorded delivery (raw body parsed as the SDK
// expects, `WorkOS-Signature`, the endpoint's secret), and with the previous secret on
// `WorkOS-Signature-Previous` when the file names one. Run by ../webhooks.py with the path of a
// JSON file {secret, previous, deliveries: [{headers, body}]}. One PASS/FAIL line per check;
// ends with 'N passed, N failed'.

import { readFileSync } from 'node:fs';
import { WorkOS } from '@workos-inc/node';

const file = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const label = process.env.LABEL || 'node';
const workos = new WorkOS('sk_test_unused');
let passed = 0;
let failed = 0;

async function check(what, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS ${label}: ${what}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${label}: ${what}: ${e && e.message}`);
  }
}

for (const d of file.deliveries) {
  const payload = JSON.parse(d.body);
  await check(`node constructEvent ${payload.id}`, async () => {
    const ev = await workos.webhooks.constructEvent({
      payload, sigHeader: d.headers['workos-signature'], secret: file.secret,
    });
    if (ev.id !== payload.id || ev.event !== payload.event) throw new Error(`got ${ev.id} ${ev.event}`);
  });
  if (file.previous) {
    await check(`node constructEvent with the previous secret ${payload.id}`, async () => {
      await workos.webhooks.constructEvent({
        payload, sigHeader: d.headers['workos-signature-previous'], secret: file.previous,
      });
    });
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
