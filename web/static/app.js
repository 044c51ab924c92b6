// The Mission Control UI: the cluster overview, the create and modify forms, the data planes page.
// Every figure comes from the API on each refresh; nothing is kept but what is on screen.
import { api, h, showError } from "./common.js";

const main = document.getElementById("main");
const errorRegion = document.getElementById("error");
const REFRESH_MS = 3000;
let refreshTimer = null;

const contextLabel = (c) => (c ? c : "Control plane");

function setError(message) {
  showError(errorRegion, message);
}

// fail shows an API error; a lost session goes back to the sign-in page.
function fail(e) {
  if (e.status === 401) {
    location.assign("/login");
    return;
  }
  setError(e.message);
}

function stopRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
}

async function route() {
  stopRefresh();
  setError("");
  const hash = location.hash || "#/clusters";
  const parts = hash.slice(2).split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a")) {
    const current = a.getAttribute("href") === hash || (hash.startsWith("#/clusters/") && a.dataset.page === "new" && parts[1] === "new");
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (parts[0] === "dataplanes") return dataPlanesPage();
  if (parts[0] === "clusters" && parts[1] === "new") return clusterForm(null);
  if (parts[0] === "clusters" && parts.length === 3) return editPage(parts[1], parts[2]);
  return overviewPage();
}

// ---- overview ----

function badge(text, kind) {
  return h("span", { class: `badge ${kind}` }, text);
}

function clusterState(c) {
  if (c.deleting) return badge("Deleting", "warn");
  if (c.stopped) return badge("Stopped", "muted");
  return c.ready ? badge("Ready", "ok") : badge("Not ready", "warn");
}

function datacenterRow(dc) {
  const state = dc.stopped ? "Stopped" : dc.progress;
  return h("tr", { "data-datacenter": dc.name },
    h("th", { scope: "row" }, dc.name),
    h("td", { class: "nodes" }, `${dc.nodesReady}/${dc.size}`),
    h("td", {}, dc.ready ? badge(state, "ok") : badge(state, dc.stopped ? "muted" : "warn")));
}

function regionBlock(r) {
  return h("section", { class: "region", "data-region": contextLabel(r.dataPlaneContext) },
    h("h4", {}, contextLabel(r.dataPlaneContext), h("span", { class: "count" }, ` · ${r.nodesReady}/${r.nodes} nodes ready`)),
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Datacenter"), h("th", { scope: "col" }, "Nodes ready"), h("th", { scope: "col" }, "State"))),
      h("tbody", {}, r.datacenters.map(datacenterRow))));
}

function clusterCard(c) {
  const id = `${c.namespace}/${c.name}`;
  const actions = h("div", { class: "actions" },
    h("a", { class: "button", href: `#/clusters/${encodeURIComponent(c.namespace)}/${encodeURIComponent(c.name)}` }, "Modify"),
    h("button", { type: "button", disabled: c.deleting, onclick: () => setStopped(c, !c.stopped) }, c.stopped ? "Start" : "Stop"),
    h("button", { type: "button", class: "danger", disabled: c.deleting, onclick: () => deleteCluster(c) }, "Delete"));
  const conditions = c.conditions;
  return h("article", { class: "cluster", "data-cluster": id, "aria-label": `Cluster ${id}` },
    h("header", {},
      h("h3", {}, c.name, h("span", { class: "ns" }, ` in ${c.namespace}`)),
      clusterState(c),
      h("span", { class: "count" }, `${c.nodesReady}/${c.nodes} nodes ready`),
      h("span", { class: "version" }, [c.serverType, c.serverVersion].filter(Boolean).join(" "))),
    h("div", { class: "regions" }, c.regions.map(regionBlock)),
    conditions.length ? h("ul", { class: "conditions", "aria-label": "Conditions" },
      conditions.map((x) => h("li", {}, h("strong", {}, `${x.type}: ${x.status}`), x.message ? ` — ${x.message}` : ""))) : "",
    actions);
}

async function setStopped(c, stopped) {
  setError("");
  try {
    await api("PATCH", `/api/v1/namespaces/${encodeURIComponent(c.namespace)}/clusters/${encodeURIComponent(c.name)}`,
      { stopped, resourceVersion: c.resourceVersion });
    await refreshOverview();
  } catch (e) {
    fail(e);
  }
}

async function deleteCluster(c) {
  if (!confirm(`Delete cluster ${c.namespace}/${c.name} and its datacenters in every data plane? Their data volumes are released.`)) return;
  setError("");
  try {
    await api("DELETE", `/api/v1/namespaces/${encodeURIComponent(c.namespace)}/clusters/${encodeURIComponent(c.name)}`);
    await refreshOverview();
  } catch (e) {
    fail(e);
  }
}

async function overviewPage() {
  main.replaceChildren(
    h("h2", {}, "Clusters"),
    h("p", { class: "updated", "aria-live": "polite", id: "updated" }, "Loading…"),
    h("div", { id: "clusters" }),
    h("h2", {}, "Operations in flight"),
    h("div", { id: "operations" }));
  await refreshOverview();
}

async function refreshOverview() {
  stopRefresh();
  const list = document.getElementById("clusters");
  if (!list) return;
  try {
    const [clusters, ops] = await Promise.all([api("GET", "/api/v1/clusters"), api("GET", "/api/v1/operations")]);
    if (!document.getElementById("clusters")) return; // the page changed meanwhile
    // Keep keyboard focus across a refresh: it would otherwise be lost with the replaced node.
    const focused = document.activeElement && document.activeElement.closest("[data-cluster]");
    const focusKey = focused ? [focused.dataset.cluster, document.activeElement.textContent] : null;
    list.replaceChildren(...(clusters.items.length
      ? clusters.items.map(clusterCard)
      : [h("p", {}, "No clusters yet. ", h("a", { href: "#/clusters/new" }, "Create one"), ".")]));
    if (focusKey) {
      const card = list.querySelector(`[data-cluster="${CSS.escape(focusKey[0])}"]`);
      const again = card && [...card.querySelectorAll("a,button")].find((el) => el.textContent === focusKey[1]);
      if (again) again.focus();
    }
    document.getElementById("operations").replaceChildren(ops.items.length
      ? h("ul", { class: "operations" }, ops.items.map((o) =>
        h("li", {}, h("strong", {}, o.kind), ` ${o.namespace}/${o.cluster}${o.datacenter ? " " + o.datacenter : ""}: ${o.message}`)))
      : h("p", {}, "None."));
    document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    setError("");
  } catch (e) {
    fail(e);
  }
  refreshTimer = setTimeout(refreshOverview, REFRESH_MS);
}

// ---- create and modify ----

async function dataPlaneContexts() {
  try {
    const planes = await api("GET", "/api/v1/dataplanes");
    return planes.items.map((p) => p.dataPlaneContext);
  } catch (e) {
    if (e.status === 403) return []; // may create local datacenters without seeing registrations
    throw e;
  }
}

let rowSeq = 0;

function datacenterFields(contexts, dc, existing) {
  const n = ++rowSeq;
  const contextSelect = h("select", { id: `dc-context-${n}`, name: "dataPlaneContext", disabled: existing },
    h("option", { value: "" }, "Control plane (local)"),
    contexts.map((c) => h("option", { value: c }, c)));
  contextSelect.value = dc.dataPlaneContext || "";
  const row = h("fieldset", { class: "datacenter" },
    h("legend", {}, existing ? `Datacenter ${dc.name}` : "New datacenter"),
    h("div", { class: "field" }, h("label", { for: `dc-name-${n}` }, "Name"),
      h("input", { id: `dc-name-${n}`, name: "dcName", required: true, pattern: "[a-z0-9]([-a-z0-9]*[a-z0-9])?", value: dc.name || "", readonly: existing })),
    h("div", { class: "field" }, h("label", { for: `dc-context-${n}` }, "Data Plane Context"), contextSelect),
    h("div", { class: "field" }, h("label", { for: `dc-size-${n}` }, "Nodes"),
      h("input", { id: `dc-size-${n}`, name: "size", type: "number", min: "1", required: true, value: String(dc.size || 3) })),
    existing ? h("div", { class: "field check" },
      h("input", { id: `dc-stopped-${n}`, name: "stopped", type: "checkbox", checked: !!dc.stopped }),
      h("label", { for: `dc-stopped-${n}` }, "Stopped")) : "",
    h("button", { type: "button", class: "link", onclick: () => row.remove() }, `Remove ${existing ? dc.name : "this datacenter"}`));
  row.dataset.existing = existing ? "1" : "";
  return row;
}

function readDatacenters(form) {
  return [...form.querySelectorAll("fieldset.datacenter")].map((f) => {
    const dc = {
      name: f.querySelector("[name=dcName]").value.trim(),
      dataPlaneContext: f.querySelector("[name=dataPlaneContext]").value,
      size: Number(f.querySelector("[name=size]").value),
    };
    const stopped = f.querySelector("[name=stopped]");
    if (stopped) dc.stopped = stopped.checked;
    return dc;
  });
}

async function clusterForm(cluster) {
  main.replaceChildren(h("h2", {}, cluster ? `Modify ${cluster.namespace}/${cluster.name}` : "Create cluster"), h("p", {}, "Loading…"));
  let contexts;
  try {
    contexts = await dataPlaneContexts();
  } catch (e) {
    fail(e);
    return;
  }
  const dcs = h("div", { id: "datacenters" });
  const formError = h("div", { class: "error", role: "alert", hidden: true, id: "form-error" });
  const add = h("button", { type: "button", onclick: () => { const r = datacenterFields(contexts, {}, false); dcs.append(r); r.querySelector("input").focus(); } }, "Add datacenter");
  const fields = cluster ? [] : [
    h("div", { class: "field" }, h("label", { for: "namespace" }, "Namespace"), h("input", { id: "namespace", name: "namespace", required: true, value: "default", autocomplete: "off" })),
    h("div", { class: "field" }, h("label", { for: "name" }, "Name"), h("input", { id: "name", name: "name", required: true, pattern: "[a-z0-9]([-a-z0-9]*[a-z0-9])?", autocomplete: "off" })),
    h("div", { class: "field" }, h("label", { for: "serverType" }, "Server type"),
      h("select", { id: "serverType", name: "serverType" }, h("option", { value: "cassandra" }, "Apache Cassandra"), h("option", { value: "dse" }, "DataStax Enterprise"))),
    h("div", { class: "field" }, h("label", { for: "serverVersion" }, "Server version"), h("input", { id: "serverVersion", name: "serverVersion", required: true, value: "4.1.5", pattern: "\\d+\\.\\d+\\.\\d+" })),
    h("div", { class: "field" }, h("label", { for: "storageClass" }, "Storage class"), h("input", { id: "storageClass", name: "storageClass", required: true, value: "standard" })),
    h("div", { class: "field" }, h("label", { for: "storageSize" }, "Storage per node"), h("input", { id: "storageSize", name: "storageSize", required: true, value: "5Gi" })),
  ];
  const form = h("form", { id: "cluster-form", novalidate: false }, fields, h("h3", {}, "Datacenters"), dcs, add, formError,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, cluster ? "Save" : "Create"), h("a", { class: "button", href: "#/clusters" }, "Cancel")));
  if (cluster) {
    for (const r of cluster.regions) for (const dc of r.datacenters) dcs.append(datacenterFields(contexts, dc, true));
  } else {
    dcs.append(datacenterFields(contexts, { name: "dc1" }, false));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showError(formError, "");
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const datacenters = readDatacenters(form);
      if (cluster) {
        await api("PATCH", `/api/v1/namespaces/${encodeURIComponent(cluster.namespace)}/clusters/${encodeURIComponent(cluster.name)}`,
          { resourceVersion: cluster.resourceVersion, datacenters });
      } else {
        await api("POST", "/api/v1/clusters", {
          namespace: form.namespace.value.trim(), name: form.name.value.trim(), spec: {
            k8ssandra: {
              cassandra: {
                serverType: form.serverType.value, serverVersion: form.serverVersion.value.trim(),
                storageConfig: { cassandraDataVolumeClaimSpec: { accessModes: ["ReadWriteOnce"], storageClassName: form.storageClass.value.trim(), resources: { requests: { storage: form.storageSize.value.trim() } } } },
                datacenters: datacenters.map((d) => Object.assign({ metadata: { name: d.name }, size: d.size }, d.dataPlaneContext ? { k8sContext: d.dataPlaneContext } : {})),
              },
            },
          },
        });
      }
      location.hash = "#/clusters";
    } catch (e) {
      if (e.status === 401) return fail(e);
      showError(formError, e.message);
      formError.scrollIntoView({ block: "nearest" });
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(h("h2", {}, cluster ? `Modify ${cluster.namespace}/${cluster.name}` : "Create cluster"),
    h("p", { class: "help" }, "The Data Plane Context of a datacenter is the registered data plane it runs in; the control plane runs it itself."),
    form);
  form.querySelector("input:not([readonly]),select").focus();
}

async function editPage(namespace, name) {
  try {
    const c = await api("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/clusters/${encodeURIComponent(name)}`);
    await clusterForm(c);
  } catch (e) {
    fail(e);
  }
}

// ---- data planes ----

async function dataPlanesPage() {
  main.replaceChildren(h("h2", {}, "Data planes"), h("p", {}, "Loading…"));
  try {
    const planes = await api("GET", "/api/v1/dataplanes");
    main.replaceChildren(h("h2", {}, "Data planes"),
      h("p", { class: "help" }, "Registered with mcctl register; each is asked, with its registration's own credential, whether it answers."),
      planes.items.length ? h("table", { class: "dataplanes" },
        h("thead", {}, h("tr", {}, ["Data Plane Context", "ClientConfig", "Namespaces", "API server", "Answers"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, planes.items.map((p) => h("tr", { "data-dataplane": p.dataPlaneContext },
          h("th", { scope: "row" }, p.dataPlaneContext), h("td", { "data-label": "ClientConfig" }, p.name),
          h("td", { "data-label": "Namespaces" }, p.namespaces.join(", ")), h("td", { "data-label": "API server" }, p.server),
          h("td", { "data-label": "Answers" }, p.answers ? badge(`Yes, as ${p.user}`, "ok") : badge(`No: ${p.error}`, "warn"))))))
        : h("p", {}, "No data plane is registered. Register one with: mcctl register --source-context DATA_PLANE --dest-context CONTROL_PLANE"));
  } catch (e) {
    fail(e);
  }
}

// ---- start ----

document.getElementById("signout").addEventListener("click", async () => {
  try {
    await api("DELETE", "/api/v1/session");
  } finally {
    location.assign("/login");
  }
});

window.addEventListener("hashchange", () => { route(); main.focus(); });
api("GET", "/api/v1/session").then((s) => { document.getElementById("user").textContent = s.user; }).catch(fail);
route();
