// Checks rendered manifests offline: every object against the Kubernetes API schema, and the
// DaemonSet against the security and scheduling policy the deployment promises.
// Usage: node validate.mjs LAYOUT=FILE ...   (LAYOUT: base, cgroup-v1, cgroup-v2, monitoring, policy)
// Prints one "PASS name" or "FAIL name: reason" line per check; exits 1 if any check failed.
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse, parseAllDocuments, parseDocument } from "yaml";

const kExpectedParent = {
  base: undefined,
  "cgroup-v1": "/sys/fs/cgroup/memory/kubepods",
  "cgroup-v2": "/sys/fs/cgroup/kubepods.slice",
  monitoring: undefined,
  policy: undefined,
};
const kKnownEnv = new Set([
  "CGMM_PARENT", "CGMM_THRESHOLD", "CGMM_INTERVAL", "CGMM_COOLDOWN", "CGMM_DRY_RUN",
  "CGMM_LOG_LEVEL", "CGMM_LOG_FORMAT", "CGMM_LISTEN", "CGMM_RECLAIM_TARGET", "CGMM_EXCLUDE_SHMEM",
  "CGMM_NOTIFICATIONS", "CGMM_POD_LOGS_DIR", "CGMM_CONTAINER_LOGS_DIR", "CGMM_POLICY",
]);
// The kubelet's log trees the daemon reads names from: its option and default for each.
const kLogDirs = [["CGMM_POD_LOGS_DIR", "/var/log/pods"], ["CGMM_CONTAINER_LOGS_DIR", "/var/log/containers"]];
const kPolicyConfigMap = "cgroup-memory-manager-policy";
const kPolicyPath = "/etc/cgroup-memory-manager/policy/policy.yaml";
const kImage = "cgroup-memory-manager:0.1.0";
const kMetricsPort = 9102;
// The source of the PrometheusRule, and the job its up alerts match.
const kRulesFile = new URL("../../deploy/monitoring/rules.yaml", import.meta.url);
const kJob = "cgroup-memory-manager";

let failures = 0;
function check(name, fn) {
  try {
    const problem = fn();
    if (problem) throw new Error(problem);
    console.log(`PASS ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${String(e.message ?? e).split("\n")[0]}`);
  }
}

// kubernetes-models lays out one module per kind: <group>/<version>/<Kind>, core group as "v1".
async function model_for(api_version, kind) {
  if (api_version === "monitoring.coreos.com/v1") {
    return (await import(`@kubernetes-models/prometheus-operator/${api_version}/${kind}`))[kind];
  }
  return (await import(`kubernetes-models/${api_version}/${kind}`))[kind];
}

function load(file) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
  return docs.map((d) => d.toJS()).filter((o) => o);
}

const find = (objs, kind) => objs.filter((o) => o.kind === kind);
const is_policy_config_map = (o) => o.kind === "ConfigMap" &&
  (o.metadata.name === kPolicyConfigMap || o.metadata.name.startsWith(`${kPolicyConfigMap}-`));
const mounts_of = (c, volume) => (c.volumeMounts ?? []).filter((m) => m.name === volume?.name);
const one = (objs, kind) => {
  const found = find(objs, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
};

// The environment the container starts with: envFrom ConfigMaps, then env entries over them.
function container_env(objs, c) {
  const env = {};
  for (const from of c.envFrom ?? []) {
    const cm = find(objs, "ConfigMap").find((o) => o.metadata.name === from.configMapRef?.name);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

async function check_schema(layout, objs) {
  for (const obj of objs) {
    const name = `${layout}: ${obj.kind}/${obj.metadata?.name} matches the API schema`;
    let model;
    try {
      model = await model_for(obj.apiVersion, obj.kind);
    } catch {
      check(name, () => `no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    check(name, () => new model(obj).validate());
  }
}

function check_workload(layout, objs) {
  const ns = one(objs, "Namespace").metadata.name;
  const ds = one(objs, "DaemonSet");
  const sa = one(objs, "ServiceAccount");
  const cm = one(objs.filter((o) => !is_policy_config_map(o)), "ConfigMap");
  const pod = ds.spec.template;
  const spec = pod.spec;
  const c = spec.containers[0];
  const sc = c.securityContext ?? {};
  const psc = spec.securityContext ?? {};
  const p = (what) => `${layout}: ${what}`;

  if (layout !== "monitoring") {
    check(p("no PodMonitor or PrometheusRule in the base or overlays (their CRDs may be absent)"),
      () => (find(objs, "PodMonitor").length || find(objs, "PrometheusRule").length) && "rendered");
  }
  check(p("every namespaced object is in the project namespace"), () => {
    const stray = objs.filter((o) => o.kind !== "Namespace" && o.metadata.namespace !== ns);
    return stray.length && `${stray.map((o) => o.kind).join(", ")} outside ${ns}`;
  });
  check(p("service account token is not mounted"), () =>
    (sa.automountServiceAccountToken !== false || spec.automountServiceAccountToken !== false) &&
    "automountServiceAccountToken is not false on both the ServiceAccount and the pod");
  check(p("pod uses the service account"), () =>
    spec.serviceAccountName !== sa.metadata.name && `serviceAccountName ${spec.serviceAccountName}`);
  check(p("selector matches the pod labels"), () => {
    const labels = pod.metadata.labels ?? {};
    const bad = Object.entries(ds.spec.selector.matchLabels).filter(([k, v]) => labels[k] !== v);
    return bad.length && `label ${bad[0][0]} differs`;
  });
  check(p("environment comes from the generated ConfigMap"), () =>
    !(c.envFrom ?? []).some((e) => e.configMapRef?.name === cm.metadata.name) &&
    `envFrom does not reference ${cm.metadata.name}`);
  check(p("option ConfigMap's name carries a content hash, so an option change rolls the pods"), () =>
    !/^cgroup-memory-manager-[a-z0-9]{10}$/.test(cm.metadata.name) && `name ${cm.metadata.name}`);
  check(p("ConfigMap holds only options the daemon reads"), () => {
    const unknown = Object.keys(cm.data).filter((k) => !kKnownEnv.has(k));
    return unknown.length && `unknown ${unknown.join(", ")}`;
  });
  check(p(`CGMM_PARENT is ${kExpectedParent[layout] ?? "left to auto-detection"}`), () =>
    cm.data.CGMM_PARENT !== kExpectedParent[layout] && `CGMM_PARENT=${cm.data.CGMM_PARENT}`);
  check(p(`listener is on the metrics port ${kMetricsPort}`), () =>
    cm.data.CGMM_LISTEN !== `:${kMetricsPort}` && `CGMM_LISTEN=${cm.data.CGMM_LISTEN}`);
  check(p(`image is ${kImage}`), () => c.image !== kImage && `image ${c.image}`);

  check(p("host /sys/fs/cgroup is mounted read-write at /sys/fs/cgroup"), () => {
    const vol = (spec.volumes ?? []).find((v) => v.hostPath?.path === "/sys/fs/cgroup");
    if (!vol) return "no hostPath volume of /sys/fs/cgroup";
    const m = (c.volumeMounts ?? []).find((vm) => vm.name === vol.name);
    if (!m || m.mountPath !== "/sys/fs/cgroup") return "not mounted at /sys/fs/cgroup";
    return m.readOnly && "mounted read-only";
  });
  const env = container_env(objs, c);
  for (const [option, fallback] of kLogDirs) {
    const dir = env[option] ?? fallback;
    check(p(`host ${dir} (${option}) is mounted read-only at the same path, on any node`), () => {
      const vol = (spec.volumes ?? []).find((v) => v.hostPath?.path === dir);
      if (!vol) return `no hostPath volume of ${dir}`;
      // Any other type either stops the pod on a node without the directory or makes one there.
      if (vol.hostPath.type) return `hostPath type ${vol.hostPath.type}`;
      const mounts = mounts_of(c, vol);
      if (mounts.length !== 1) return `mounted ${mounts.length} times`;
      const [m] = mounts;
      if (m.mountPath !== dir) return `mounted at ${m.mountPath}`;
      if (m.subPath || m.subPathExpr) return "mounted with a subPath";
      return m.readOnly !== true && "not mounted read-only";
    });
  }
  check(p("no other host path is mounted"), () => {
    const allowed = new Set(["/sys/fs/cgroup", ...kLogDirs.map(([option, fallback]) => env[option] ?? fallback)]);
    const others = (spec.volumes ?? []).filter((v) => v.hostPath && !allowed.has(v.hostPath.path));
    return others.length && `hostPath ${others[0].hostPath.path}`;
  });
  check(p("no host namespaces"), () =>
    ["hostPID", "hostIPC", "hostNetwork"].filter((k) => spec[k]).join(", "));
  check(p("no privileged container"), () =>
    [...spec.containers, ...(spec.initContainers ?? [])].some((x) => x.securityContext?.privileged) &&
    "a container is privileged");
  check(p("runs as uid 0"), () =>
    (sc.runAsUser ?? psc.runAsUser) !== 0 && `runAsUser ${sc.runAsUser ?? psc.runAsUser}`);
  check(p("drops every capability and adds none"), () => {
    const caps = sc.capabilities ?? {};
    if (JSON.stringify(caps.drop) !== JSON.stringify(["ALL"])) return `drop ${JSON.stringify(caps.drop)}`;
    return caps.add?.length && `adds ${caps.add.join(", ")}`;
  });
  check(p("no privilege escalation"), () =>
    sc.allowPrivilegeEscalation !== false && "allowPrivilegeEscalation is not false");
  check(p("read-only root file system"), () =>
    sc.readOnlyRootFilesystem !== true && "readOnlyRootFilesystem is not true");
  check(p("seccomp profile RuntimeDefault"), () =>
    (sc.seccompProfile ?? psc.seccompProfile)?.type !== "RuntimeDefault" && "no RuntimeDefault seccomp profile");
  check(p("small resource requests and a memory limit"), () => {
    const r = c.resources ?? {};
    if (!r.requests?.cpu || !r.requests?.memory) return "missing cpu or memory request";
    return !r.limits?.memory && "missing memory limit";
  });
  check(p(`named port metrics is ${kMetricsPort}`), () =>
    !(c.ports ?? []).some((x) => x.name === "metrics" && x.containerPort === kMetricsPort) && "no such port");
  for (const probe of ["livenessProbe", "readinessProbe"]) {
    check(p(`${probe} is GET /healthz on port metrics`), () => {
      const g = c[probe]?.httpGet;
      return (g?.path !== "/healthz" || g?.port !== "metrics") && JSON.stringify(c[probe]);
    });
  }
  check(p("Prometheus scrape annotations"), () => {
    const a = pod.metadata.annotations ?? {};
    return (a["prometheus.io/scrape"] !== "true" || a["prometheus.io/port"] !== String(kMetricsPort) ||
      a["prometheus.io/path"] !== "/metrics") && JSON.stringify(a);
  });
  check(p("tolerates every taint"), () =>
    !(spec.tolerations ?? []).some((t) => t.operator === "Exists" && !t.key && !t.effect) &&
    "no toleration with operator Exists and no key");
  check(p("priority class system-node-critical"), () =>
    spec.priorityClassName !== "system-node-critical" && `priorityClassName ${spec.priorityClassName}`);
  check(p("rolling update with maxUnavailable"), () =>
    (ds.spec.updateStrategy?.type !== "RollingUpdate" ||
      ds.spec.updateStrategy.rollingUpdate?.maxUnavailable === undefined) &&
    JSON.stringify(ds.spec.updateStrategy));
}

function check_podmonitor(layout, objs) {
  const pm = one(objs, "PodMonitor");
  const ep = pm.spec.podMetricsEndpoints?.[0] ?? {};
  const relabel = ep.relabelings ?? [];
  const p = (what) => `${layout}: ${what}`;
  check(p("PodMonitor scrapes port metrics at /metrics of the daemon's pods"), () => {
    if (ep.port !== "metrics" || ep.path !== "/metrics") return JSON.stringify(ep);
    const sel = pm.spec.selector?.matchLabels ?? {};
    return sel["app.kubernetes.io/name"] !== "cgroup-memory-manager" && JSON.stringify(sel);
  });
  check(p(`PodMonitor names the job ${kJob}, as the rules' up alerts expect`), () => {
    const labels = one(objs, "DaemonSet").spec.template.metadata.labels ?? {};
    return labels[pm.spec.jobLabel] !== kJob && `jobLabel ${pm.spec.jobLabel}: ${labels[pm.spec.jobLabel]}`;
  });
  // The operator sets these from the daemon's own pod; the leaves' series carry them for the workload.
  check(p("PodMonitor keeps the daemon pod's namespace, pod and container off the leaves' series"), () => {
    const dropped = relabel.filter((r) => r.action?.toLowerCase() === "labeldrop")
      .map((r) => new RegExp(`^(?:${r.regex})$`));
    const kept = ["namespace", "pod", "container"].filter((l) => !dropped.some((re) => re.test(l)));
    return kept.length && `no labeldrop of ${kept.join(", ")}`;
  });
  check(p("PodMonitor labels each target with its node"), () =>
    !relabel.some((r) => r.targetLabel === "node" &&
      JSON.stringify(r.sourceLabels) === JSON.stringify(["__meta_kubernetes_pod_node_name"])) &&
    "no relabeling of __meta_kubernetes_pod_node_name to node");
}

function check_prometheusrule(layout, objs) {
  const rule = one(objs, "PrometheusRule");
  check(`${layout}: PrometheusRule holds the groups of deploy/monitoring/rules.yaml`, () => {
    const want = parse(readFileSync(kRulesFile, "utf8"));
    return !isDeepStrictEqual(rule.spec, { groups: want.groups }) &&
      "differs: run deploy/monitoring/generate-prometheusrule.sh";
  });
}

function check_policy(objs) {
  const spec = one(objs, "DaemonSet").spec.template.spec;
  const c = spec.containers[0];
  const path = container_env(objs, c).CGMM_POLICY ?? "";
  const dir = posix.dirname(path);
  const key = posix.basename(path);
  const cms = objs.filter(is_policy_config_map);
  const cm = cms.length === 1 ? cms[0] : undefined;
  const vol = (spec.volumes ?? []).find((v) => cm && v.configMap?.name === cm.metadata.name);

  check(`policy: CGMM_POLICY is ${kPolicyPath}`, () => path !== kPolicyPath && `CGMM_POLICY=${path}`);
  check(`policy: one ConfigMap ${kPolicyConfigMap}`, () => !cm && `found ${cms.length}`);
  // A name with a content hash makes every edit a new ConfigMap and a rolling restart instead of a reload.
  check("policy: the policy ConfigMap has no content hash, so an edit reaches the running pods", () =>
    cm && cm.metadata.name !== kPolicyConfigMap && `name ${cm.metadata.name}`);
  check("policy: the policy ConfigMap is mounted as a directory, read-only, where CGMM_POLICY points", () => {
    if (!vol) return `no volume of ConfigMap ${cm?.metadata.name}`;
    if (vol.configMap.items) return "the volume lists items: only those keys would be there";
    const mounts = mounts_of(c, vol);
    if (mounts.length !== 1) return `mounted ${mounts.length} times`;
    const [m] = mounts;
    // A subPath mount binds the file as it was when the container started: it never sees an update.
    if (m.subPath || m.subPathExpr) return `mounted with subPath ${m.subPath ?? m.subPathExpr}`;
    if (posix.normalize(`${m.mountPath}/`) !== posix.normalize(`${dir}/`)) {
      return `mounted at ${m.mountPath}, not ${dir}`;
    }
    return m.readOnly !== true && "not mounted read-only";
  });
  check(`policy: the policy ConfigMap holds ${key} as YAML with a list of rules, each with a match`, () => {
    const text = cm?.data?.[key];
    if (typeof text !== "string") return `no key ${key}`;
    const doc = parseDocument(text);
    if (doc.errors.length) return doc.errors[0].message;
    const rules = doc.toJS()?.rules;
    if (!Array.isArray(rules) || !rules.length) return "no rules list";
    const bad = rules.findIndex((r) => !r?.match || typeof r.match !== "object" || Array.isArray(r.match));
    return bad >= 0 && `rule ${bad + 1} has no match mapping`;
  });
}

// The schema check is only worth something if it rejects a broken object.
async function check_validator_rejects() {
  const DaemonSet = await model_for("apps/v1", "DaemonSet");
  check("schema validation rejects a DaemonSet with capabilities.drop as a string", () => {
    const broken = {
      metadata: { name: "x" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { containers: [{ name: "c", image: "i", securityContext: { capabilities: { drop: "ALL" } } }] },
        },
      },
    };
    try {
      new DaemonSet(broken).validate();
    } catch {
      return undefined;
    }
    return "validate() accepted it";
  });
}

await check_validator_rejects();
for (const arg of process.argv.slice(2)) {
  const [layout, file] = arg.split("=");
  let objs;
  try {
    objs = load(file);
  } catch (e) {
    check(`${layout}: rendered output parses as YAML`, () => e.message);
    continue;
  }
  await check_schema(layout, objs);
  check_workload(layout, objs);
  if (layout === "monitoring") {
    check_podmonitor(layout, objs);
    check_prometheusrule(layout, objs);
  }
  if (layout === "policy") check_policy(objs);
}
process.exit(failures ? 1 : 0);
