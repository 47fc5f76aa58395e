// Turns the rendered DaemonSet's pod into the `docker run` that runs it the same way, so that
// tests/deploy/container.sh runs the image with the manifest's own security settings, limits,
// environment and mounts: a change to the manifest changes the test. A setting with no docker
// equivalent known here fails loudly instead of being dropped.
// Usage: node pod_to_docker.mjs RENDERED.yaml [--host-path HOST=LOCAL]... [--env KEY=VALUE]...
//   --host-path  where a hostPath volume's HOST path is on this machine (every one must be given)
//   --env        replaces the value of a variable the manifest sets (a key it does not set fails)
// Prints one line per item: "arg ARG" (a docker run argument, in order), "image IMAGE" and
// "probe KIND PATH PORT" (the kubelet's HTTP probes, port resolved to a number).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

function die(message) {
  console.error(`pod_to_docker: ${message}`);
  process.exit(1);
}

const [file, ...rest] = process.argv.slice(2);
if (!file) die("usage: node pod_to_docker.mjs RENDERED.yaml [--host-path HOST=LOCAL]... [--env KEY=VALUE]...");
const host_paths = new Map();
const env_overrides = new Map();
for (let i = 0; i < rest.length; i += 2) {
  const [flag, value] = [rest[i], rest[i + 1] ?? ""];
  const eq = value.indexOf("=");
  if (eq <= 0 || (flag !== "--host-path" && flag !== "--env")) die(`bad argument: ${flag} ${value}`);
  (flag === "--host-path" ? host_paths : env_overrides).set(value.slice(0, eq), value.slice(eq + 1));
}

const objects = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter((o) => o);
const daemonsets = objects.filter((o) => o.kind === "DaemonSet");
if (daemonsets.length !== 1) die(`expected one DaemonSet in ${file}, found ${daemonsets.length}`);
const pod = daemonsets[0].spec.template.spec;
if (pod.containers.length !== 1 || pod.initContainers?.length) {
  die("expected one container and no init containers in the pod");
}
const container = pod.containers[0];
const out = [];
const arg = (...a) => out.push(...a.map((x) => `arg ${x}`));

// Namespaces: without hostNetwork the pod has a network namespace of its own; with no pod network
// here, that is a private one holding only loopback.
arg("--network", pod.hostNetwork ? "host" : "none");
if (pod.hostPID) arg("--pid", "host");
if (pod.hostIPC) arg("--ipc", "host");

// The container's securityContext overrides the pod's, key by key.
const security = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
const handled = new Set();
const take = (key) => { handled.add(key); return security[key]; };
const uid = take("runAsUser");
const gid = take("runAsGroup");
if (uid !== undefined) arg("--user", gid === undefined ? `${uid}` : `${uid}:${gid}`);
if (take("runAsNonRoot") && (uid ?? 0) === 0) die("runAsNonRoot with uid 0 would not start");
for (const g of take("supplementalGroups") ?? []) arg("--group-add", `${g}`);
if (take("privileged")) arg("--privileged");
if (take("allowPrivilegeEscalation") === false) arg("--security-opt", "no-new-privileges");
if (take("readOnlyRootFilesystem")) arg("--read-only");
const caps = take("capabilities") ?? {};
for (const c of caps.drop ?? []) arg("--cap-drop", c);
for (const c of caps.add ?? []) arg("--cap-add", c);
const seccomp = take("seccompProfile")?.type ?? "RuntimeDefault";
if (seccomp === "Unconfined") arg("--security-opt", "seccomp=unconfined");
else if (seccomp !== "RuntimeDefault") die(`seccompProfile ${seccomp} has no docker equivalent here`);
for (const key of Object.keys(security)) {
  if (!handled.has(key)) die(`securityContext.${key} has no docker equivalent here`);
}

// Limits bound the container as the kubelet's cgroup would; requests only schedule it.
const limits = container.resources?.limits ?? {};
const kUnits = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 };
if (limits.memory !== undefined) {
  const m = /^([0-9]+)(Ki|Mi|Gi|K|M|G)?$/.exec(`${limits.memory}`);
  if (!m) die(`resources.limits.memory ${limits.memory} is not understood here`);
  arg("--memory", `${Number(m[1]) * (kUnits[m[2]] ?? 1)}`);
}
if (limits.cpu !== undefined) {
  const c = /^([0-9.]+)(m)?$/.exec(`${limits.cpu}`);
  if (!c) die(`resources.limits.cpu ${limits.cpu} is not understood here`);
  arg("--cpus", `${c[2] ? Number(c[1]) / 1000 : Number(c[1])}`);
}

// Environment: envFrom ConfigMaps first, then env, as the kubelet does (env wins).
const env = new Map();
for (const from of container.envFrom ?? []) {
  const name = from.configMapRef?.name;
  if (!name || from.prefix) die("only envFrom.configMapRef without a prefix is understood here");
  const config_map = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name);
  if (!config_map) die(`envFrom names ConfigMap ${name}, which is not in ${file}`);
  for (const [k, v] of Object.entries(config_map.data ?? {})) env.set(k, `${v}`);
}
for (const e of container.env ?? []) {
  if (e.valueFrom) die(`env ${e.name} uses valueFrom, which is not understood here`);
  env.set(e.name, `${e.value ?? ""}`);
}
for (const [k, v] of env_overrides) {
  if (!env.has(k)) die(`--env ${k}: the manifest sets no such variable`);
  env.set(k, v);
}
for (const k of [...env.keys()].sort()) arg("--env", `${k}=${env.get(k)}`);

// Mounts: hostPath volumes only, each at the place on this machine the caller names.
for (const mount of container.volumeMounts ?? []) {
  const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume?.hostPath) die(`volume ${mount.name} is not a hostPath, which is all that is understood here`);
  if (mount.subPath || mount.mountPropagation) die(`volume ${mount.name}: subPath and mountPropagation are not understood here`);
  const local = host_paths.get(volume.hostPath.path);
  if (local === undefined) die(`hostPath ${volume.hostPath.path} has no --host-path`);
  arg("--volume", `${local}:${mount.mountPath}:${mount.readOnly ? "ro" : "rw"}`);
}

const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
for (const kind of ["livenessProbe", "readinessProbe", "startupProbe"]) {
  const get = container[kind]?.httpGet;
  if (!container[kind]) continue;
  if (!get) die(`${kind} is not an httpGet probe, which is all that is understood here`);
  const port = typeof get.port === "number" ? get.port : ports.get(get.port);
  if (port === undefined) die(`${kind} names port ${get.port}, which the container does not have`);
  out.push(`probe ${kind} ${get.path} ${port}`);
}
if (container.command || container.args) die("command and args are not understood here");
out.push(`image ${container.image}`);
console.log(out.join("\n"));
