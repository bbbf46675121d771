// Ingest reports (#/ingest, #/ingest/ID): the deliveries `shotline ingest` recorded, newest
// first, and one report's totals, versions and clips with their issues.
// Uses app.js's api, el, $ and STATES (classic scripts share their top-level names).
"use strict";

window.shotline.pages.ingest = async (sec, [id = ""]) => {
  try {
    if (id) drawReport(sec, await api("GET", `/ingest/reports/${encodeURIComponent(id)}`));
    else drawReports(sec, await api("GET", "/ingest/reports"));
  } catch (e) {
    sec.replaceChildren(el("h2", { textContent: "Ingest reports" }), errorLine(e.message));
  }
};

function drawReports(sec, list) {
  const rows = list.reports.map((r) => {
    const t = r.totals || {};
    return cells("td", [el("a", { href: `#/ingest/${encodeURIComponent(r.id)}`, textContent: r.id }),
      r.finished, r.dry_run ? "dry run" : "", t.clips, t.ingested, t.unmatched + t.blocked + t.failed, r.versions_created]);
  });
  sec.replaceChildren(el("h2", { textContent: "Ingest reports" }),
    rows.length ? el("table", { id: "ingest-reports" },
      el("thead", {}, cells("th", ["Report", "Finished", "", "Clips", "Ingested", "Problems", "Versions"])),
      el("tbody", {}, ...rows)) : el("p", { textContent: "No ingest has been run in this project." }),
    ...list.unreadable.map((u) => errorLine(`${u.id}: ${u.error}`)));
}

function drawReport(sec, doc) {
  const r = doc.report;
  const totals = Object.entries(r.totals || {}).map(([k, v]) => cells("td", [k.replaceAll("_", " "), v]));
  const versions = (r.versions_created || []).map((v) => cells("td", [v.key, v.version, v.files, v.registered ? "yes" : "NO", (v.warnings || []).join("; ")]));
  const clips = ((r.plan || {}).clips || []).map((c) => cells("td", [c.key, c.status, c.files_count,
    (c.issues || []).map((i) => `${i.severity}: ${i.message}`).join("; ")]));
  sec.replaceChildren(
    el("div", { className: "shot-head" }, el("h2", { textContent: `Ingest ${doc.id}` }), el("a", { href: "#/ingest", textContent: "All reports" })),
    el("p", { textContent: `${r.started} → ${r.finished}${r.dry_run ? " (dry run)" : ""}` }),
    el("table", { className: "totals" }, el("tbody", {}, ...totals)),
    el("h3", { textContent: "Versions" }),
    el("table", {}, el("thead", {}, cells("th", ["Key", "Version", "Files", "Registered", "Warnings"])), el("tbody", {}, ...versions)),
    el("h3", { textContent: "Clips" }),
    el("table", {}, el("thead", {}, cells("th", ["Clip", "Status", "Files", "Issues"])), el("tbody", {}, ...clips)));
}
