// A field tablet: an unmodified WatermelonDB 0.28 database (LokiJS in memory) and its
// synchronize(), driven by the Python tests one JSON command per line on stdin; one JSON
// answer per line on stdout. Run: node tests/js/sync/tablet.js
//
// Commands:
//   {"cmd": "config", "url": "http://127.0.0.1:N", "token": "…"}
//   {"cmd": "sync", "limit": n?, "lose_push_response": bool?}
//   {"cmd": "create", "table": "hazards", "fields": {...}}          -> {"id"}
//   {"cmd": "update", "table": "hazards", "id": "…", "fields": {...}}
//   {"cmd": "delete", "table": "hazards", "id": "…"}
//   {"cmd": "get", "table": "hazards", "id": "…"}                   -> {"record": raw|null}
//   {"cmd": "all", "table": "hazards"}                               -> {"records": [raw…]}
//   {"cmd": "exit"}
// Every answer carries "errors": what WatermelonDB logged with console.error/warn since the
// last answer (its sync warnings, e.g. "[Sync] Server wants client to create record …").
'use strict'

const readline = require('readline')
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { schemaMigrations, createTable, addColumns } = require('@nozbe/watermelondb/Schema/migrations')

// stdout is the answer channel: WatermelonDB's chatter goes to stderr
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => { process.stderr.write(args.map(String).join(' ') + '\n') }
}
const logged = []
for (const level of ['error', 'warn']) {
  console[level] = (...args) => {
    logged.push(args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
  }
}

const c = (name, type, isOptional = false) => ({ name, type, isOptional })
// The schema version this tablet runs (CONTRACT §4): 1 unless TABLET_SCHEMA_VERSION says otherwise.
const SCHEMA_VERSION = Number(process.env.TABLET_SCHEMA_VERSION || 1)
// Version 3 (criteria catalogues, issue #15): two read-only tables and two columns.
const V3_TABLES = [
  tableSchema({
    name: 'criteria_catalogues',
    columns: [c('code', 'string'), c('version', 'number'), c('title', 'string'), c('doc_no', 'string'),
      c('kind', 'string'), c('industries', 'string'), c('region_code', 'string', true),
      c('effective_from', 'string', true), c('effective_to', 'string', true), c('replaces_id', 'string', true)],
  }),
  tableSchema({
    name: 'criteria_clauses',
    columns: [c('catalogue_id', 'string'), c('number', 'string'), c('code', 'string'), c('position', 'number'),
      c('group_title', 'string', true), c('text', 'string'), c('guidance', 'string', true)],
  }),
]
const V3_COLUMNS = { hazards: [c('criterion_clause_id', 'string', true)], checklist_items: [c('criterion_clause_id', 'string', true)] }
const withVersion = (table) => (SCHEMA_VERSION >= 3 && V3_COLUMNS[table.name]
  ? tableSchema({ name: table.name, columns: [...table.columnArray, ...V3_COLUMNS[table.name]] })
  : table)
const V1_TABLES = [
    tableSchema({ name: 'regions', columns: [c('name', 'string'), c('parent_id', 'string', true), c('level', 'number')] }),
    tableSchema({
      name: 'enterprises',
      columns: [c('name', 'string'), c('uscc', 'string'), c('region_id', 'string'), c('address', 'string', true),
        c('industry', 'string', true), c('major_hazard_level', 'number'), c('risk_color', 'string', true),
        c('latitude', 'number', true), c('longitude', 'number', true)],
    }),
    tableSchema({
      name: 'checklist_templates',
      columns: [c('code', 'string'), c('title', 'string'), c('version', 'number'), c('status', 'string')],
    }),
    tableSchema({
      name: 'checklist_items',
      columns: [c('template_id', 'string'), c('code', 'string'), c('category', 'string'), c('content', 'string'),
        c('basis', 'string', true), c('major_criterion_code', 'string', true), c('position', 'number')],
    }),
    tableSchema({
      name: 'inspections',
      columns: [c('enterprise_id', 'string'), c('template_id', 'string', true), c('lead_inspector_id', 'string', true),
        c('co_inspector_id', 'string', true), c('started_at', 'number', true), c('finished_at', 'number', true),
        c('latitude', 'number', true), c('longitude', 'number', true), c('status', 'string'), c('note', 'string', true)],
    }),
    tableSchema({
      name: 'findings',
      columns: [c('inspection_id', 'string'), c('item_id', 'string', true), c('result', 'string'), c('note', 'string', true)],
    }),
    tableSchema({
      name: 'hazards',
      columns: [c('inspection_id', 'string', true), c('finding_id', 'string', true), c('enterprise_id', 'string'),
        c('notice_id', 'string', true), c('description', 'string'), c('location', 'string', true),
        c('grade', 'string'), c('major_criterion_code', 'string', true), c('deadline_at', 'number', true),
        c('rectified_on_spot', 'boolean'), c('status', 'string', true)],
    }),
    tableSchema({
      name: 'notices',
      columns: [c('inspection_id', 'string', true), c('enterprise_id', 'string'), c('deadline_at', 'number', true),
        c('issued_at', 'number', true), c('number', 'string', true), c('status', 'string', true)],
    }),
    tableSchema({
      name: 'photos',
      columns: [c('owner_table', 'string'), c('owner_id', 'string'), c('sha256', 'string', true),
        c('taken_at', 'number', true), c('latitude', 'number', true), c('longitude', 'number', true),
        c('status', 'string', true)],
    }),
]
const schema = appSchema({
  version: SCHEMA_VERSION,
  tables: [...V1_TABLES.map(withVersion), ...(SCHEMA_VERSION >= 3 ? V3_TABLES : [])],
})

const modelClasses = schema.tables ? Object.keys(schema.tables).map((table) => {
  const cls = class extends Model {}
  cls.table = table
  return cls
}) : []

// migrations let synchronize() send the `migration` parameter; version 2 (planning) adds nothing here
const migrationSteps = [
  { toVersion: 3, steps: [...V3_TABLES.map((t) => createTable({ name: t.name, columns: t.columnArray })),
    ...Object.entries(V3_COLUMNS).map(([table, columns]) => addColumns({ table, columns }))] },
  { toVersion: 2, steps: [] },
].filter((m) => m.toVersion <= SCHEMA_VERSION)
const migrations = schemaMigrations({ migrations: migrationSteps })
const adapter = new LokiJSAdapter({ schema, migrations, useWebWorker: false, useIncrementalIndexedDB: false })
const database = new Database({ adapter, modelClasses })

let server = null
let token = null
const stats = { pulls: [], pushes: [] }

function mergePage(acc, page) {
  for (const [table, part] of Object.entries(page.changes)) {
    const t = acc[table] || (acc[table] = { rows: new Map(), deleted: new Set() })
    for (const kind of ['created', 'updated']) {
      for (const raw of part[kind] || []) {
        const prev = t.rows.get(raw.id)
        t.deleted.delete(raw.id)
        t.rows.set(raw.id, { kind: prev && prev.kind === 'created' ? 'created' : kind, raw })
      }
    }
    for (const id of part.deleted || []) {
      const prev = t.rows.get(id)
      t.rows.delete(id)
      if (!prev || prev.kind !== 'created') t.deleted.add(id)
    }
  }
}

function finish(acc) {
  const changes = {}
  for (const [table, t] of Object.entries(acc)) {
    changes[table] = { created: [], updated: [], deleted: [...t.deleted] }
    for (const { kind, raw } of t.rows.values()) changes[table][kind].push(raw)
  }
  return changes
}

let resumeWaiter = null
let current = { pulls: [], push: null }

async function sync({ limit, lose_push_response: losePushResponse, pause_before_push: pauseBeforePush }) {
  const pulls = []
  let pushResult = null
  current = { pulls, push: null }
  await synchronize({
    database,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      // Paging (CONTRACT §2): pull again from the returned timestamp until has_more is false,
      // merging by id, the later page winning.
      const acc = {}
      let cursor = lastPulledAt
      let timestamp = null
      for (;;) {
        let url = `${server}/api/v1/sync?last_pulled_at=${cursor}&schema_version=${schemaVersion}` +
          `&migration=${encodeURIComponent(JSON.stringify(migration))}`
        if (limit) url += `&limit=${limit}`
        const resp = await fetch(url, { headers: { Authorization: `Bearer ${token}` } })
        if (!resp.ok) throw new Error(`pull ${resp.status}: ${await resp.text()}`)
        const page = await resp.json()
        let count = 0
        for (const part of Object.values(page.changes)) count += part.created.length + part.updated.length + part.deleted.length
        pulls.push({ last_pulled_at: cursor, timestamp: page.timestamp, has_more: !!page.has_more, count })
        mergePage(acc, page)
        timestamp = page.timestamp
        if (!page.has_more) break
        cursor = page.timestamp
      }
      return { changes: finish(acc), timestamp }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      if (pauseBeforePush) {
        // let the test change the server between this sync's pull and its push
        process.stdout.write(JSON.stringify({ paused: true }) + '\n')
        await new Promise((resolve) => { resumeWaiter = resolve })
      }
      // a bare fetch: the body goes out as text/plain;charset=UTF-8
      // a tablet of a later schema version names it, so the server takes its newer columns
      const version = SCHEMA_VERSION > 1 ? `&schema_version=${SCHEMA_VERSION}` : ''
      const resp = await fetch(`${server}/api/v1/sync?last_pulled_at=${lastPulledAt}${version}`, {
        method: 'POST', body: JSON.stringify(changes), headers: { Authorization: `Bearer ${token}` },
      })
      const text = await resp.text()
      pushResult = current.push = { status: resp.status, body: text ? JSON.parse(text) : null }
      if (!resp.ok) throw new Error(`push ${resp.status}: ${text}`)
      if (losePushResponse) throw new Error('network lost before the answer arrived')
      return { experimentalRejectedIds: pushResult.body.experimentalRejectedIds }
    },
    migrationsEnabledAtVersion: 1,
  })
  return { pulls, push: pushResult }
}

function rawOf(record) {
  return { ...record._raw }
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'config':
      server = msg.url
      token = msg.token
      return {}
    case 'sync': {
      try {
        return { ok: true, ...(await sync(msg)) }
      } catch (err) {
        return { ok: false, error: err.message, ...current }
      }
    }
    case 'create': {
      let created
      await database.write(async () => {
        created = await database.get(msg.table).create((r) => {
          for (const [k, v] of Object.entries(msg.fields)) r._setRaw(k, v)
        })
      })
      return { id: created.id }
    }
    case 'update': {
      const record = await database.get(msg.table).find(msg.id)
      await database.write(async () => {
        await record.update((r) => {
          for (const [k, v] of Object.entries(msg.fields)) r._setRaw(k, v)
        })
      })
      return {}
    }
    case 'delete': {
      const record = await database.get(msg.table).find(msg.id)
      await database.write(async () => { await record.markAsDeleted() })
      return {}
    }
    case 'get': {
      try {
        return { record: rawOf(await database.get(msg.table).find(msg.id)) }
      } catch (err) {
        return { record: null }
      }
    }
    case 'all': {
      const records = await database.get(msg.table).query().fetch()
      return { records: records.map(rawOf) }
    }
    case 'exit':
      return { bye: true }
    default:
      throw new Error(`unknown command ${msg.cmd}`)
  }
}

const rl = readline.createInterface({ input: process.stdin })
let queue = Promise.resolve()
rl.on('line', (line) => {
  if (!line.trim()) return
  if (line.includes('"resume"') && resumeWaiter) {
    const resolve = resumeWaiter
    resumeWaiter = null
    resolve()
    return
  }
  queue = queue.then(async () => {
    let answer
    let msg = {}
    try {
      msg = JSON.parse(line)
      answer = await handle(msg)
    } catch (err) {
      answer = { exception: String(err && err.stack || err) }
    }
    answer.errors = logged.splice(0)
    process.stdout.write(JSON.stringify(answer) + '\n')
    if (msg.cmd === 'exit') process.exit(0)
  })
})
rl.on('close', () => { queue.then(() => process.exit(0)) })
