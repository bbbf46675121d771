// The shotline dashboard: talks to /api/v1 with the session cookie, sends the CSRF token on
// every mutation, and follows /api/v1/events for live changes.
"use strict";
const STATES = ["TODO", "WIP", "REVIEW", "RETAKE", "APPROVED", "FINAL", "OMIT"];
let csrf = null;
let events = null;
let grid = null;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...kids) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const k of kids) e.append(k);
  return e;
};

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error((data.error && data.error.message) || res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

// Shared with page scripts (shot page, asset library, ingest reports): each registers
// `shotline.pages[NAME] = (section, args)`, drawn into #page for `#/NAME/ARG...`.
window.shotline = { api, el, $, pages: {}, states: STATES };

function route() {
  if ($("nav").hidden) return;
  const [, page = "", ...rest] = location.hash.split("/");
  const custom = window.shotline.pages[page];
  if (!custom) return;
  show("page");
  custom($("page"), rest.map(decodeURIComponent));
}

function show(page) {
  for (const id of ["login", "shots", "render", "page"]) $(id).hidden = id !== page;
  for (const b of document.querySelectorAll("nav button[data-page]")) {
    if (b.dataset.page === page) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
}

async function start() {
  try {
    const s = await api("GET", "/session");
    loggedIn(s);
  } catch (e) {
    $("nav").hidden = true;
    show("login");
    $("login-user").focus();
  }
}

async function loggedIn(s) {
  csrf = s.csrf;
  $("who").textContent = `${s.user} (${s.role})`;
  $("nav").hidden = false;
  const p = await api("GET", "/project");
  $("project").textContent = p.project.code;
  show("shots");
  await loadGrid();
  await loadJobs();
  listen();
  route();
}

async function loadGrid() {
  grid = await api("GET", "/shots");
  drawGrid();
}

function drawGrid() {
  const q = $("search").value.trim().toLowerCase();
  const head = el("tr", {}, el("th", { textContent: "Shot" }),
    ...grid.steps.map((s) => el("th", { textContent: s.code, title: s.name })));
  $("grid").tHead.replaceChildren(head);
  const rows = grid.shots
    .filter((r) => !q || r.code.toLowerCase().includes(q) || (r.sequence || "").toLowerCase().includes(q))
    .map((r) => {
      const tr = el("tr", { id: "shot-" + r.code });
      tr.append(el("th", { textContent: r.code, title: r.name || "" }));
      for (const st of grid.steps) {
        const c = r.steps[st.code];
        const sel = el("select", { ariaLabel: `${r.code} ${st.code} status`, id: `status-${r.code}-${st.code}` });
        for (const s of STATES) sel.append(el("option", { value: s, textContent: s, selected: s === c.state }));
        sel.addEventListener("change", () => changeStatus(r.code, st.code, sel));
        const ver = el("span", { className: "ver", textContent: c.latest ? c.latest.label : "" });
        tr.append(el("td", { className: "cell " + c.state }, sel, ver));
      }
      return tr;
    });
  $("grid").tBodies[0].replaceChildren(...rows);
}

async function changeStatus(shot, step, sel) {
  try {
    const r = await api("PUT", `/shots/${encodeURIComponent(shot)}/steps/${encodeURIComponent(step)}/status`, { state: sel.value });
    $("message").textContent = `${shot} ${step}: ${r.status.state}`;
    sel.parentElement.className = "cell " + r.status.state;
  } catch (e) {
    $("message").textContent = `${shot} ${step}: ${e.message}`;
    await loadGrid();
  }
}

async function loadJobs() {
  drawJobs((await api("GET", "/render/jobs")).jobs);
}

function drawJobs(jobs) {
  const rows = jobs.map((j) => el("tr", { id: "job-" + j.id },
    el("td", { textContent: j.id }), el("td", { textContent: j.name }),
    el("td", { textContent: j.state }), el("td", { textContent: `${j.frames_done}/${j.frame_count}` }),
    el("td", {}, el("progress", { max: 1, value: j.progress, ariaLabel: `job ${j.id} progress` }))));
  $("jobs").tBodies[0].replaceChildren(...rows);
}

let gridReload = null;
function listen() {
  if (events) events.close();
  events = new EventSource("/api/v1/events");
  const later = () => { clearTimeout(gridReload); gridReload = setTimeout(loadGrid, 200); };
  events.addEventListener("status", later);
  events.addEventListener("version", later);
  events.addEventListener("resync", () => { later(); loadJobs(); });
  events.addEventListener("render", (e) => drawJobs(JSON.parse(e.data).jobs));
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    try {
      const s = await api("POST", "/login", { user: $("login-user").value, password: $("login-password").value });
      $("login-password").value = "";
      await loggedIn(s);
    } catch (e) {
      $("login-error").textContent = e.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/logout"); } finally {
      if (events) events.close();
      csrf = null;
      $("nav").hidden = true;
      show("login");
    }
  });
  for (const b of document.querySelectorAll("nav button[data-page]")) {
    b.addEventListener("click", () => show(b.dataset.page));
  }
  $("search").addEventListener("input", () => grid && drawGrid());
  window.addEventListener("hashchange", route);
  start();
});
