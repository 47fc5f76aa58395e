// Loads a Grafana dashboard and runs every panel's queries against a live Prometheus, as Grafana
// would: template variables resolved from their own queries, then substituted, once with "All"
// for each variable that has it and once with one value each (--set VAR=VALUE, else the first
// value found). Each query must parse and return data, and every label its legend names must be
// in the result. The rules file's groups must be loaded and evaluating without error.
// Usage: node dashboard_queries.mjs --dashboard FILE --rules FILE --prometheus URL
//          [--set VAR=VALUE]...
// Prints one "PASS name" or "FAIL name: reason" line per check; exits 1 if any check failed.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

// What Grafana puts for its built-in variables; the rate window needs a few scrapes in it.
const kBuiltins = { __rate_interval: "1m", __interval: "30s", __range: "1h", __range_s: "3600" };
const kGridWidth = 24;

let failures = 0;
function check(name, problem, detail) {
  if (problem) {
    failures++;
    console.log(`FAIL ${name}: ${problem}`);
    if (detail) console.log(detail.replace(/^/gm, "    "));
  } else {
    console.log(`PASS ${name}`);
  }
}

function args() {
  const out = { set: {} };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--set") {
      const eq = value.indexOf("=");
      out.set[value.slice(0, eq)] = value.slice(eq + 1);
    } else {
      out[flag.replace(/^--/, "")] = value;
    }
  }
  return out;
}

// Panels in screen order, the panels of collapsed rows included.
const all_panels = (dash) => (dash.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
const is_datasource_var = (ds) => ds?.uid === "${datasource}" || ds?.uid === "$datasource";

function check_structure(dash) {
  const vars = dash.templating?.list ?? [];
  const names = new Set([...vars.map((v) => v.name), ...Object.keys(kBuiltins)]);
  check("dashboard has a title and a uid", (!dash.title || !dash.uid) && "missing");
  check("dashboard has a Prometheus data source variable, datasource",
    !vars.some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus") &&
    "no such variable");
  for (const want of ["job", "node", "instance", "namespace"]) {
    check(`dashboard has a template variable ${want}`, !vars.some((v) => v.name === want) && "missing");
  }
  const panels = all_panels(dash);
  const ids = panels.map((p) => p.id);
  check("panel ids are unique", ids.length !== new Set(ids).size && `ids ${ids.join(", ")}`);
  const boxes = [];
  for (const p of panels) {
    const name = `panel "${p.title}"`;
    const g = p.gridPos ?? {};
    check(`${name} has a place on the grid`,
      (![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x + g.w > kGridWidth) && JSON.stringify(g));
    const clash = boxes.find((b) => g.x < b.g.x + b.g.w && b.g.x < g.x + g.w && g.y < b.g.y + b.g.h && b.g.y < g.y + g.h);
    check(`${name} overlaps no other panel`, clash && `overlaps "${clash.title}"`);
    boxes.push({ g, title: p.title });
    if (p.type === "row") continue;
    check(`${name} queries the datasource variable`,
      (!is_datasource_var(p.datasource) || !(p.targets ?? []).every((t) => is_datasource_var(t.datasource ?? p.datasource))) &&
      JSON.stringify(p.datasource));
    const refs = (p.targets ?? []).map((t) => t.refId);
    check(`${name} has queries, each with its own refId and an expression`,
      (!refs.length || refs.length !== new Set(refs).size || !(p.targets ?? []).every((t) => t.expr?.trim())) &&
      `refIds ${refs.join(", ") || "none"}`);
    const used = (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\$\{(\w+)[^}]*\}|\$(\w+)|\[\[(\w+)\]\]/g)])
      .map((m) => m[1] ?? m[2] ?? m[3]);
    const unknown = used.filter((u) => !names.has(u));
    check(`${name} uses only defined variables`, unknown.length && `undefined ${[...new Set(unknown)].join(", ")}`);
  }
}

// Grafana's escaping of a value put into a regex matcher of a Prometheus query.
const regex_escape = (v) => v.replace(/\\/g, "\\\\\\\\").replace(/[$^*{}[\]'+?.()|]/g, "\\\\$&");

function substitute(text, values) {
  return text.replace(/\$\{(\w+)[^}]*\}|\$(\w+)|\[\[(\w+)\]\]/g, (m, a, b, c) => {
    const name = a ?? b ?? c;
    return name in values ? values[name] : m;
  });
}

async function api(base, path, params) {
  const url = new URL(path, base);
  for (const [k, v] of params) url.searchParams.append(k, v);
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ status: "error", error: `HTTP ${res.status}, no JSON` }));
  if (body.status !== "success") throw new Error(`${body.errorType ?? "error"}: ${body.error}`);
  return body.data;
}

// label_values(LABEL) or label_values(SELECTOR, LABEL), as Grafana's Prometheus data source reads it.
async function label_values(base, query) {
  const m = /^\s*label_values\(\s*(?:(.*\S)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(query);
  if (!m) throw new Error(`not a label_values() query: ${query}`);
  const params = m[1] ? [["match[]", m[1]]] : [];
  return (await api(base, `/api/v1/label/${m[2]}/values`, params)).filter((v) => v !== "");
}

async function check_rules_loaded(base, rules_doc) {
  let groups;
  try {
    groups = (await api(base, "/api/v1/rules", [])).groups;
  } catch (e) {
    check("Prometheus lists its rules", e.message);
    return;
  }
  for (const want of rules_doc.groups ?? []) {
    const got = groups.find((g) => g.name === want.name);
    check(`rule group ${want.name} is loaded with its ${want.rules.length} rules`,
      (!got || got.rules.length !== want.rules.length) && (got ? `${got.rules.length} rules` : "not loaded"));
    for (const r of got?.rules ?? []) {
      if (r.health !== "ok" && r.health !== "unknown") {
        check(`rule ${r.name} evaluates without error`, `${r.health}: ${r.lastError}`, r.query);
      }
    }
    check(`every rule of ${want.name} evaluates without error`,
      got?.rules.some((r) => r.health !== "ok") && "see above, or not evaluated yet");
  }
}

async function main() {
  const opt = args();
  const dash = JSON.parse(readFileSync(opt.dashboard, "utf8"));
  const rules_doc = parse(readFileSync(opt.rules, "utf8"));
  const base = opt.prometheus;
  check_structure(dash);
  await check_rules_loaded(base, rules_doc);

  // Variables in order, each query seeing those before it.
  const all = { ...kBuiltins };
  const one = { ...kBuiltins };
  for (const v of dash.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const query = typeof v.query === "string" ? v.query : v.query?.query;
    const name = `variable ${v.name}: ${query}`;
    let values = [];
    try {
      values = await label_values(base, substitute(query, all));
      check(`${name} lists values`, !values.length && "none");
    } catch (e) {
      check(`${name} lists values`, e.message);
    }
    const chosen = opt.set[v.name] ?? values[0] ?? "";
    check(`${name} offers ${chosen}`, !values.includes(chosen) && `values: ${values.join(", ")}`);
    const regex = v.multi || v.includeAll;
    one[v.name] = regex ? regex_escape(chosen) : chosen;
    all[v.name] = v.includeAll ? (v.allValue ?? ".*") : one[v.name];
  }

  for (const p of all_panels(dash)) {
    if (p.type === "row") continue;
    for (const t of p.targets ?? []) {
      const name = `panel "${p.title}" query ${t.refId}`;
      const problems = [];
      let shown = substitute(t.expr, all);
      for (const [pass, values] of [["all values", all], ["one value each", one]]) {
        const q = substitute(t.expr, values);
        try {
          const data = await api(base, "/api/v1/query", [["query", q]]);
          if (!data.result.length) {
            problems.push(`no data with ${pass}`);
            shown = q;
            continue;
          }
          if (pass !== "all values") continue;
          const legend = [...(t.legendFormat ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);
          const missing = legend.filter((l) => !data.result.some((s) => s.metric?.[l]));
          if (missing.length) problems.push(`legend label ${missing.join(", ")} is in no series`);
        } catch (e) {
          problems.push(`with ${pass}: ${e.message}`);
          shown = q;
        }
      }
      check(`${name} returns data`, problems.join("; "), problems.length ? shown : undefined);
    }
  }
}

await main();
process.exit(failures ? 1 : 0);
