// The WorkOS Node SDK (@workos-inc/node, pinned in package.json) against scimgate. Run by
// ../sdk.py, which starts the server, creates the data and passes SCIMGATE_URL,
// SCIMGATE_API_KEY and SCIMGATE_FIXTURE.
//
// The Node SDK's deserializers copy fields without validating them, so besides the expected ids
// each object is checked for the fields the SDK's TypeScript types declare as required: a field
// the server omits or misnames shows up here as `undefined`. One PASS/FAIL line per check; ends
// with 'N passed, N failed'.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WorkOS } from '@workos-inc/node';

const FX = JSON.parse(readFileSync(process.env.SCIMGATE_FIXTURE, 'utf8'));
const base = new URL(process.env.SCIMGATE_URL);
const workos = new WorkOS(process.env.SCIMGATE_API_KEY, {
  https: base.protocol === 'https:',
  apiHostname: base.hostname,
  port: Number(base.port),
});
const ds = workos.directorySync;
const sdkVersion = createRequire(import.meta.url)('@workos-inc/node/package.json').version;

const DIRS = FX.directories;
const USERS = Object.fromEntries(Object.entries(FX.users).filter(([, u]) => !u.deleted));
const GROUPS = FX.groups;
const ORG_A = FX.organizations.A;
const DSYNC_EVENTS = ['dsync.user.created', 'dsync.user.updated', 'dsync.user.deleted', 'dsync.group.created',
  'dsync.group.updated', 'dsync.group.deleted', 'dsync.group.user_added', 'dsync.group.user_removed'];
// fields the SDK's interfaces declare as required (camelCase, as deserialized)
const REQUIRED = {
  directory: ['object', 'id', 'organizationId', 'externalKey', 'name', 'state', 'type', 'createdAt', 'updatedAt'],
  user: ['object', 'id', 'directoryId', 'organizationId', 'idpId', 'state', 'rawAttributes', 'customAttributes',
    'createdAt', 'updatedAt'],
  group: ['id', 'idpId', 'directoryId', 'organizationId', 'name', 'createdAt', 'updatedAt', 'rawAttributes'],
  event: ['id', 'event', 'data', 'createdAt'],
};

let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS  node ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL  node ${name}  -- ${e.name}: ${e.message}`);
  }
}

function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

function shape(kind, obj, what) {
  if (obj === undefined || obj === null) throw new Error(`${what}: deserialized to ${obj}`);
  const missing = REQUIRED[kind].filter((k) => obj[k] === undefined);
  if (missing.length) throw new Error(`${what}: required ${kind} fields undefined: ${missing.join(', ')}`);
  for (const k of ['createdAt', 'updatedAt']) {
    if (obj[k] !== undefined && Number.isNaN(Date.parse(obj[k]))) throw new Error(`${what}: ${k}=${obj[k]} is not a date`);
  }
}

const ids = (list) => list.data.map((x) => x.id);
const sorted = (a) => [...a].sort();
const keysIn = (dir, table) => Object.keys(table).filter((k) => table[k].directory === dir);
const userIds = (keys) => sorted(keys.map((k) => USERS[k].id));
const referenceEvents = (names, org) =>
  FX.events.filter((e) => names.includes(e.event) && (org === undefined || e.organization_id === org));

// Follow listMetadata.after from the first page until it is null or a page is empty (the events
// API keeps a cursor on its last page, for polling); returns [ids, non-empty pages].
async function pageThrough(fn, limit, opts) {
  const pages = [await fn({ ...opts, limit })];
  while (pages.at(-1).listMetadata.after) {
    if (pages.length > 100) throw new Error('more than 100 pages: list_metadata.after never ends');
    const page = await fn({ ...opts, limit, after: pages.at(-1).listMetadata.after });
    if (!page.data.length) break;
    eq(pages.at(-1).data.length, limit, 'a page before the last one is full');
    pages.push(page);
  }
  return [pages.flatMap((p) => ids(p)), pages];
}

// Paging forward with `after` and back with `before` gives the unpaged list, in order.
async function checkCursors(fn, limit, opts = {}) {
  const full = ids(await fn({ ...opts, limit: 100 }));
  const [paged, pages] = await pageThrough(fn, limit, opts);
  eq(paged, full, 'ids paged with after (in order)');
  if (pages.length >= 2) {
    const before = pages[1].listMetadata.before;
    if (!before) throw new Error('page 2 has no list_metadata.before');
    eq(ids(await fn({ ...opts, limit, before })), ids(pages[0]), 'page before page 2');
  }
  eq(ids(await fn({ ...opts, limit: 100, order: 'asc' })), [...full].reverse(), 'order=asc is the reverse of desc');
}

async function listEvents(opts) {
  const list = await workos.events.listEvents(opts);
  list.data.forEach((e, i) => shape('event', e, `event ${i} (${FX.events.find((r) => r.id === e?.id)?.event})`));
  return list;
}

// ---- directories ---------------------------------------------------------------------------
await check('listDirectories: every directory, fields', async () => {
  const list = await ds.listDirectories({ limit: 100 });
  const got = Object.fromEntries(list.data.map((d) => [d.id, d]));
  for (const [key, d] of Object.entries(DIRS)) {
    shape('directory', got[d.id], `directory ${key}`);
    eq([got[d.id].organizationId, got[d.id].type, got[d.id].name], [d.organization_id, d.type, d.name], `directory ${key}`);
  }
});

await check('listDirectories({organizationId})', async () => {
  eq(sorted(ids(await ds.listDirectories({ organizationId: ORG_A, limit: 100 }))),
    sorted([DIRS.A1.id, DIRS.A2.id]), 'directories of organization A');
});

await check('listDirectories: after/before/limit paging', () => checkCursors((o) => ds.listDirectories(o), 1));

await check('getDirectory', async () => {
  const d = await ds.getDirectory(DIRS.A1.id);
  shape('directory', d, 'directory A1');
  eq([d.id, d.organizationId, d.type, d.name], [DIRS.A1.id, DIRS.A1.organization_id, DIRS.A1.type, DIRS.A1.name], 'A1');
  // the SDK maps the REST states linked/unlinked to active/inactive
  if (!['active', 'inactive', 'validating', 'invalid_credentials', 'deleting'].includes(d.state)) {
    throw new Error(`state ${d.state} is not a directory state`);
  }
});

// ---- users ---------------------------------------------------------------------------------
await check('listUsers({directory}): ids, email, names, state', async () => {
  const list = await ds.listUsers({ directory: DIRS.A1.id, limit: 100 });
  eq(sorted(ids(list)), userIds(keysIn('A1', USERS)), 'users of A1 (deleted user absent)');
  for (const key of keysIn('A1', USERS)) {
    const u = list.data.find((x) => x.id === USERS[key].id);
    const want = USERS[key];
    shape('user', u, `user ${key}`);
    eq([u.email, u.firstName, u.lastName, u.state, u.directoryId, u.organizationId],
      [want.email, want.first_name, want.last_name, want.state, DIRS.A1.id, DIRS.A1.organization_id], `user ${key}`);
  }
});

await check('listUsers({group})', async () => {
  const g = GROUPS['A1.g1'];
  eq(sorted(ids(await ds.listUsers({ group: g.id, limit: 100 }))), userIds(g.members), 'members of A1.g1');
});

await check('listUsers: after/before/limit paging', () => checkCursors((o) => ds.listUsers(o), 2, { directory: DIRS.A1.id }));

await check('listUsers: autoPagination', async () => {
  const full = ids(await ds.listUsers({ directory: DIRS.A2.id, limit: 100 }));
  const all = await (await ds.listUsers({ directory: DIRS.A2.id })).autoPagination();
  eq(all.map((u) => u.id), full, 'auto-paged ids');
});

await check('getUser', async () => {
  const want = USERS['A1.u3'];
  const u = await ds.getUser(want.id);
  shape('user', u, 'user A1.u3');
  eq([u.id, u.email, u.state, u.directoryId], [want.id, want.email, 'active', DIRS.A1.id], 'user A1.u3');
  // `groups` is deprecated: WorkOS returns [] for new teams; if filled it must be right
  if (u.groups.length) eq(sorted(u.groups.map((g) => g.id)), sorted(want.groups.map((k) => GROUPS[k].id)), 'groups');
});

await check('getUser: deactivated user', async () => {
  eq((await ds.getUser(USERS['A1.u5'].id)).state, 'inactive', 'state of A1.u5');
});

// ---- groups --------------------------------------------------------------------------------
await check('listGroups({directory})', async () => {
  const list = await ds.listGroups({ directory: DIRS.A1.id, limit: 100 });
  eq(sorted(ids(list)), sorted(keysIn('A1', GROUPS).map((k) => GROUPS[k].id)), 'groups of A1');
  for (const key of keysIn('A1', GROUPS)) {
    const g = list.data.find((x) => x.id === GROUPS[key].id);
    shape('group', g, `group ${key}`);
    eq(g.name, GROUPS[key].name, `name of ${key}`);
  }
});

await check('listGroups({user})', async () => {
  const want = USERS['A1.u3'];
  eq(sorted(ids(await ds.listGroups({ user: want.id, limit: 100 }))), sorted(want.groups.map((k) => GROUPS[k].id)),
    'groups of A1.u3');
});

await check('listGroups: after/before/limit paging', () => checkCursors((o) => ds.listGroups(o), 1, { directory: DIRS.A1.id }));

await check('getGroup', async () => {
  const want = GROUPS['A1.g2'];
  const g = await ds.getGroup(want.id);
  shape('group', g, 'group A1.g2');
  eq([g.id, g.name, g.directoryId, g.organizationId], [want.id, want.name, DIRS.A1.id, DIRS.A1.organization_id], 'A1.g2');
});

// ---- events --------------------------------------------------------------------------------
await check('listEvents({events: [dsync.user.created]}) asc: ids and data', async () => {
  const ref = referenceEvents(['dsync.user.created']);
  const list = await listEvents({ events: ['dsync.user.created'], order: 'asc', limit: 100 });
  eq(ids(list), ref.map((e) => e.id), 'event ids');
  list.data.forEach((e) => shape('user', e.data, `data of ${e.id}`));
  eq(list.data.map((e) => e.data.id), ref.map((e) => e.data_id), 'data.id');
});

await check('listEvents({events: [2 types], organizationId}): membership events', async () => {
  const names = ['dsync.group.user_added', 'dsync.group.user_removed'];
  const ref = referenceEvents(names, ORG_A);
  if (!ref.length) throw new Error('no membership events in organization A');
  const list = await listEvents({ events: names, organizationId: ORG_A, order: 'asc', limit: 100 });
  eq(ids(list), ref.map((e) => e.id), 'event ids');
  list.data.forEach((e) => {
    shape('user', e.data.user, `data.user of ${e.id}`);
    shape('group', e.data.group, `data.group of ${e.id}`);
  });
  eq(list.data.map((e) => [e.data.user.id, e.data.group.id]), ref.map((e) => [e.user_id, e.group_id]), 'user/group ids');
});

await check('listEvents({events: [dsync.user.updated]}): deactivation with previousAttributes', async () => {
  const list = await listEvents({ events: ['dsync.user.updated'], order: 'asc', limit: 100 });
  const deact = list.data.filter((e) => e.data.id === USERS['A1.u5'].id);
  eq(deact.map((e) => [e.data.state, e.data.previousAttributes?.state]), [['inactive', 'active']], 'updates of A1.u5');
});

await check('listEvents: after paging with limit', async () => {
  const [got] = await pageThrough((o) => listEvents(o), 3, { events: DSYNC_EVENTS, order: 'asc' });
  eq(got, referenceEvents(DSYNC_EVENTS).map((e) => e.id), 'event ids paged by 3');
});

await check('listEvents({organizationId}) paging', async () => {
  const [got] = await pageThrough((o) => listEvents(o), 4, { events: DSYNC_EVENTS, organizationId: ORG_A, order: 'asc' });
  eq(got, referenceEvents(DSYNC_EVENTS, ORG_A).map((e) => e.id), 'event ids of organization A paged by 4');
});

// dsync.token.* are not in this SDK version's event union (it deserializes them to undefined),
// so only the directory events it knows are listed here.
await check('listEvents: dsync.activated and dsync.deleted', async () => {
  const names = ['dsync.activated', 'dsync.deleted'];
  const ref = referenceEvents(names);
  const list = await listEvents({ events: names, order: 'asc', limit: 100 });
  eq(ids(list), ref.map((e) => e.id), 'event ids');
  list.data.forEach((e) => {
    const missing = ['object', 'id', 'type', 'state', 'name', 'organizationId', 'createdAt', 'updatedAt']
      .filter((k) => e.data[k] === undefined);
    if (missing.length) throw new Error(`${e.event} ${e.id}: directory fields undefined: ${missing.join(', ')}`);
  });
  eq(list.data.filter((e) => e.event === 'dsync.deleted').map((e) => e.data.id), [FX.deleted_directory], 'dsync.deleted data.id');
});

console.log(`# @workos-inc/node ${sdkVersion} against ${process.env.SCIMGATE_URL}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
