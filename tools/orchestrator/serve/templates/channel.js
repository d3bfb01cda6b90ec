// Reads each subdir's repodata.json (relative to this page, so /t/<token>/ URLs work too),
// then renders, searches, filters and sorts the packages in the browser.
let rows = [], sortKey = "name", sortUp = true;

function text(value) { const span = document.createElement("span"); span.textContent = value; return span; }

function size(bytes) {
  if (bytes > 1 << 20) return (bytes / (1 << 20)).toFixed(1) + " MiB";
  return (bytes / 1024).toFixed(1) + " KiB";
}

async function load() {
  const select = document.getElementById("subdir");
  for (const subdir of SUBDIRS) {
    const response = await fetch(subdir + "/repodata.json", {cache: "no-cache"});
    if (!response.ok) continue;
    const data = await response.json();
    for (const section of ["packages", "packages.conda"]) {
      for (const [file, r] of Object.entries(data[section] || {})) {
        rows.push({file, subdir, name: r.name, version: r.version, build: r.build,
                   size: r.size || 0, timestamp: r.timestamp || 0, depends: r.depends || []});
      }
    }
    select.appendChild(new Option(subdir, subdir));
  }
  render();
}

function visible() {
  const words = document.getElementById("search").value.toLowerCase().split(/\s+/).filter(Boolean);
  const subdir = document.getElementById("subdir").value;
  return rows.filter(r => (!subdir || r.subdir === subdir) && words.every(w =>
    [r.name, r.version, r.build, r.depends.join(" ")].join(" ").toLowerCase().includes(w)));
}

function render() {
  const body = document.getElementById("packages");
  const shown = visible().sort((a, b) => (a[sortKey] > b[sortKey] ? 1 : a[sortKey] < b[sortKey] ? -1 : 0) * (sortUp ? 1 : -1));
  body.replaceChildren(...shown.map(r => {
    const tr = document.createElement("tr");
    tr.className = "package";
    const when = r.timestamp ? new Date(r.timestamp).toISOString().slice(0, 16).replace("T", " ") : "";
    for (const value of [r.name, r.version, r.build, r.subdir, size(r.size), when]) {
      const td = document.createElement("td"); td.appendChild(text(value)); tr.appendChild(td);
    }
    const deps = document.createElement("td"); deps.className = "deps";
    deps.appendChild(text(r.depends.join(", "))); tr.appendChild(deps);
    return tr;
  }));
  document.getElementById("count").textContent = shown.length + " of " + rows.length + " packages";
}

document.getElementById("search").addEventListener("input", render);
document.getElementById("subdir").addEventListener("change", render);
for (const th of document.querySelectorAll("th[data-key]")) {
  th.addEventListener("click", () => { sortUp = sortKey === th.dataset.key ? !sortUp : true; sortKey = th.dataset.key; render(); });
}
load().catch(e => { document.getElementById("status").textContent = "cannot read repodata: " + e; });
