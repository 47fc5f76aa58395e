// Checks a Prometheus rules file against its promtool unit tests for what promtool itself does not
// demand: every alert carries a severity and the annotations an SRE reads, every alert has a test
// case that fires it and one where it must stay silent, and every recording rule is evaluated by a
// test.
// Usage: node rules_coverage.mjs RULES_FILE TESTS_FILE
// Prints one "PASS name" or "FAIL name: reason" line per check; exits 1 if any check failed.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const kSeverities = new Set(["critical", "warning", "info"]);

let failures = 0;
function check(name, problem) {
  if (problem) {
    failures++;
    console.log(`FAIL ${name}: ${problem}`);
  } else {
    console.log(`PASS ${name}`);
  }
}

const [rules_file, tests_file] = process.argv.slice(2);
const rules = parse(readFileSync(rules_file, "utf8"))?.groups?.flatMap((g) => g.rules ?? []) ?? [];
const tests = parse(readFileSync(tests_file, "utf8"))?.tests ?? [];
const alerts = rules.filter((r) => r.alert);
const records = rules.filter((r) => r.record);
check(`${rules_file} has alerts and recording rules`,
  (!alerts.length || !records.length) && `${alerts.length} alerts, ${records.length} recording rules`);

const cases = tests.flatMap((t) => t.alert_rule_test ?? []);
const exprs = tests.flatMap((t) => t.promql_expr_test ?? []).map((e) => e.expr ?? "");

for (const a of alerts) {
  const labels = a.labels ?? {};
  const notes = a.annotations ?? {};
  check(`${a.alert} has a severity of ${[...kSeverities].join(", ")}`,
    !kSeverities.has(labels.severity) && `severity ${JSON.stringify(labels.severity)}`);
  check(`${a.alert} has a summary and a description`,
    (!notes.summary || !notes.description) && `annotations ${Object.keys(notes).join(", ") || "none"}`);
  const mine = cases.filter((c) => c.alertname === a.alert);
  check(`${a.alert} has a test case that fires it`,
    !mine.some((c) => (c.exp_alerts ?? []).length > 0) && "no case with exp_alerts");
  check(`${a.alert} has a test case where it does not fire`,
    !mine.some((c) => (c.exp_alerts ?? []).length === 0) && "no case with empty exp_alerts");
}
for (const r of records) {
  const word = new RegExp(`(^|[^a-zA-Z0-9_:])${r.record.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^a-zA-Z0-9_:])`);
  check(`recording rule ${r.record} is evaluated by a test`, !exprs.some((e) => word.test(e)) && "no promql_expr_test");
}
const names = new Set(alerts.map((a) => a.alert));
const strays = cases.filter((c) => !names.has(c.alertname));
check("every alert test case names an alert of the rules",
  strays.length && strays.map((c) => `${c.alertname} at ${c.eval_time}`).join(", "));
process.exit(failures ? 1 : 0);
